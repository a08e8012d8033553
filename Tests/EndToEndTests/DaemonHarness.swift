import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A `tock serve` process on 127.0.0.1, on a free port, with its own data directory.
/// Tests stop it with `stop()` or `kill9()`; `deinit` kills it if a test forgot or failed early.
final class DaemonProcess: @unchecked Sendable {
    let dataDirectory: String
    /// The port the daemon bound (it binds port 0 and logs the one the kernel gave it).
    private(set) var port = 0
    let process: Process
    let logPath: String
    /// `http`, or `https` when the configuration turns it on.
    let scheme: String
    var url: String { "\(scheme)://127.0.0.1:\(port)" }

    /// A fresh temporary data directory.
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("tock-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Starts `tock serve` on `dataDirectory` and waits until `/ping` answers (for https, until it logs
    /// that it listens).
    /// - Parameters:
    ///   - config: a configuration file to start with.
    ///   - configuration: the text of a configuration file to write and start with.
    init(dataDirectory: String, config: String? = nil, configuration: String? = nil, scheme: String = "http") async throws {
        self.dataDirectory = dataDirectory
        self.scheme = scheme
        let run = UUID().uuidString.prefix(8)
        logPath = dataDirectory + "/daemon-\(run).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process = Process()
        process.executableURL = URL(fileURLWithPath: TockBinary.path)
        // Port 0: the kernel picks a free port at bind time, so parallel tests never race for one.
        process.arguments = ["serve", "--bind", "127.0.0.1:0", "--data-dir", dataDirectory] + (config.map { ["-config", $0] } ?? [])
        process.currentDirectoryURL = URL(fileURLWithPath: TockBinary.root)
        if let configuration {
            let file = dataDirectory + "/tock-\(run).conf"
            try configuration.write(toFile: file, atomically: true, encoding: .utf8)
            process.arguments! += ["--config", file]
        }
        var environment = ProcessInfo.processInfo.environment
        environment["TOCK_CONFIG_PATH"] = nil
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        guard FileManager.default.isExecutableFile(atPath: TockBinary.path) else {
            throw HarnessError("\(TockBinary.path) is not an executable file: build it first (swift build --build-tests)")
        }
        try process.run()
        for _ in 0..<600 {
            if !process.isRunning { break }
            if port == 0, let text = try? String(contentsOfFile: logPath, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.contains("msg=listening") }),
               let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
               let bound = address.split(separator: ":").last.flatMap({ Int($0) }) {
                port = bound
            }
            if port != 0 {
                if scheme == "https" { return }
                if let reply = try? await HTTP.send("GET", url + "/ping"), reply.status == 204 { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        kill9()
        throw HarnessError("tock serve did not come up (port \(port)); its output:\n\(output)")
    }

    deinit { if process.isRunning { kill9() } }

    /// SIGTERM, then waits (at most `timeout` seconds) for the exit; returns the exit status. A daemon
    /// that does not exit in time is a test failure, and is killed.
    @discardableResult
    func stop(timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation) -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            Issue.record("tock serve did not exit within \(Int(timeout)) s of SIGTERM; killed", sourceLocation: sourceLocation)
            kill9()
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Polls `condition` every 25 ms until it holds; throws after `timeout` seconds, saying `what` was awaited.
    static func waitUntil(_ what: String, timeout: Double = 20,
                          _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try await !condition() {
            guard Date() < deadline else { throw HarnessError("timed out after \(Int(timeout)) s waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// SIGKILL: the process gets no chance to flush or clean up.
    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Runs `tock <args…> -url <this daemon>`.
    func cli(_ args: [String], input: Data? = nil, environment: [String: String] = [:]) throws -> TockBinary.Result {
        try TockBinary.runProgram(TockBinary.path, args + ["-url", url], input: input, environment: environment)
    }

    /// `cert.pem` and `key.pem` in `dir`: a self-signed certificate for 127.0.0.1, for a daemon serving HTTPS.
    static func selfSignedCertificate(in dir: String) throws {
        let made = try TockBinary.runProgram("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem",
            "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        guard made.status == 0 else { throw HarnessError("openssl req -x509: \(made.stderr)") }
    }

    /// POSTs line protocol to `/write`.
    func write(_ lines: String, db: String, rp: String, precision: String = "s") async throws -> Int {
        try await HTTP.send("POST", url + "/write?db=\(db)&rp=\(rp)&precision=\(precision)", body: Data(lines.utf8)).status
    }

    /// GETs a JSON object from the API.
    func getJSON(_ path: String) async throws -> [String: Any] {
        let reply = try await HTTP.send("GET", url + path)
        guard let object = try JSONSerialization.jsonObject(with: reply.body) as? [String: Any] else {
            throw HarnessError("GET \(path) answered \(reply.status) with no JSON object")
        }
        return object
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Plain HTTP requests to the daemon.
enum HTTP {
    struct Reply {
        var status: Int
        var body: Data
    }

    static func send(_ method: String, _ url: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        return Reply(status: (response as! HTTPURLResponse).statusCode, body: data)
    }
}
