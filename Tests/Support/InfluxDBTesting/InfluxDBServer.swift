import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A real InfluxDB 1.x (`influxd` from Debian's `influxdb` package) on 127.0.0.1, with its own temporary directory
/// and ports, for tests that need InfluxDB itself rather than a stand-in.
///
/// ```swift
/// let influx = try await InfluxDBServer.start()
/// defer { influx.destroy() }
/// try await influx.query("CREATE DATABASE printer")
/// ```
/// ``stop()`` and ``restart()`` keep the directory and ports, so a test can take InfluxDB away and bring it back
/// with its data. Tests that need it call ``InfluxDBServer/isAvailable`` and skip with a clear reason when
/// `influxd` is missing (`.ci/run` installs it).
public final class InfluxDBServer: @unchecked Sendable {
    /// Where `influxd` is looked for: `$INFLUXD`, then `/usr/bin/influxd`.
    public static var executable: String {
        ProcessInfo.processInfo.environment["INFLUXD"] ?? "/usr/bin/influxd"
    }

    /// Whether `influxd` is installed.
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    /// The HTTP port (`[http] bind-address`).
    public let httpPort: Int
    /// The RPC port (top-level `bind-address`, used by backups; bound to loopback so it cannot clash).
    public let rpcPort: Int
    /// The temporary directory with `meta/`, `data/`, `wal/`, `influxdb.conf` and `influxd.log`.
    public let directory: String
    /// `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(httpPort)" }
    public var logPath: String { directory + "/influxd.log" }

    private let lock = NSLock()
    private var process: Process?

    private init(httpPort: Int, rpcPort: Int, directory: String) {
        self.httpPort = httpPort
        self.rpcPort = rpcPort
        self.directory = directory
    }

    /// Starts a new InfluxDB with an empty directory; waits until `/ping` answers.
    /// `extraConfig` is appended to the generated `influxdb.conf` (for example a `[subscriber]` section).
    public static func start(extraConfig: String = "") async throws -> InfluxDBServer {
        guard isAvailable else { throw InfluxDBServerError("influxd not found at \(executable) (apt install influxdb)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-influxd-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var lastError: any Error = InfluxDBServerError("no free ports")
        // Two free ports are chosen by binding port 0 and closing it; another process may take one before influxd
        // binds it, so a failed start is tried again with new ports.
        for _ in 0..<5 {
            let server = InfluxDBServer(httpPort: try freePort(), rpcPort: try freePort(), directory: dir)
            try server.writeConfig(extra: extraConfig)
            do {
                try await server.restart()
                return server
            } catch {
                lastError = error
                server.stop()
            }
        }
        throw lastError
    }

    /// A free TCP port on 127.0.0.1 (the kernel's choice for port 0).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw InfluxDBServerError("socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        guard bound else { throw InfluxDBServerError("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    private func writeConfig(extra: String) throws {
        let config = """
            reporting-disabled = true
            bind-address = "127.0.0.1:\(rpcPort)"
            [meta]
              dir = "\(directory)/meta"
            [data]
              dir = "\(directory)/data"
              wal-dir = "\(directory)/wal"
              query-log-enabled = false
            [http]
              bind-address = "127.0.0.1:\(httpPort)"
              log-enabled = false
            [monitor]
              store-enabled = false
            [continuous_queries]
              enabled = false
            \(extra)
            """
        try config.write(toFile: directory + "/influxdb.conf", atomically: true, encoding: .utf8)
    }

    /// Starts `influxd` again on the same directory and ports (after ``stop()``); waits until `/ping` answers.
    public func restart(timeout: Double = 30) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.executable)
        p.arguments = ["-config", directory + "/influxdb.conf"]
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        lock.withLock { process = p }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !p.isRunning { break }
            if let status = try? await status(path: "/ping"), status == 204 { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let tail = (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").suffix(15)
            .joined(separator: "\n") ?? ""
        throw InfluxDBServerError("influxd did not answer /ping on port \(httpPort) within \(timeout)s; its log:\n\(tail)")
    }

    /// Stops `influxd` (SIGTERM, then SIGKILL after 10 s) and keeps its directory.
    public func stop() {
        guard let p = lock.withLock({ () -> Process? in defer { process = nil }; return process }) else { return }
        if p.isRunning { p.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    /// Stops `influxd` and removes its directory.
    public func destroy() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit {
        if let p = process, p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }

    // MARK: Talking to it directly (no Tock code involved)

    /// Runs InfluxQL through `/query` (POST, `epoch=ns`) and returns the decoded JSON; throws on an HTTP error or an
    /// `error` in the first result.
    @discardableResult
    public func query(_ q: String, database: String? = nil) async throws -> [String: Any] {
        var c = URLComponents(string: url + "/query")!
        c.queryItems = [URLQueryItem(name: "q", value: q), URLQueryItem(name: "epoch", value: "ns")]
            + (database.map { [URLQueryItem(name: "db", value: $0)] } ?? [])
        var request = URLRequest(url: c.url!)
        request.httpMethod = "POST"
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        if status != 200 { throw InfluxDBServerError("\(q): HTTP \(status): \(String(decoding: data, as: UTF8.self))") }
        if let results = json["results"] as? [[String: Any]], let error = results.first?["error"] as? String {
            throw InfluxDBServerError("\(q): \(error)")
        }
        return json
    }

    /// The rows of a `SELECT`: one `[column: value]` dictionary per row of every series (tags merged in).
    public func rows(_ q: String, database: String) async throws -> [[String: Any]] {
        let json = try await query(q, database: database)
        var out: [[String: Any]] = []
        for result in json["results"] as? [[String: Any]] ?? [] {
            for series in result["series"] as? [[String: Any]] ?? [] {
                let columns = series["columns"] as? [String] ?? []
                let tags = series["tags"] as? [String: String] ?? [:]
                for values in series["values"] as? [[Any]] ?? [] {
                    var row: [String: Any] = tags
                    for (c, v) in zip(columns, values) { row[c] = v }
                    out.append(row)
                }
            }
        }
        return out
    }

    /// Writes line protocol through `/write`; returns the HTTP status (204 on success).
    @discardableResult
    public func write(_ lines: String, database: String, retentionPolicy: String? = nil, precision: String = "ns") async throws -> Int {
        var c = URLComponents(string: url + "/write")!
        c.queryItems = [URLQueryItem(name: "db", value: database), URLQueryItem(name: "precision", value: precision)]
            + (retentionPolicy.map { [URLQueryItem(name: "rp", value: $0)] } ?? [])
        var request = URLRequest(url: c.url!)
        request.httpMethod = "POST"
        request.httpBody = Data(lines.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        if status != 204 { throw InfluxDBServerError("write to \(database): HTTP \(status): \(String(decoding: data, as: UTF8.self))") }
        return status
    }

    private func status(path: String) async throws -> Int {
        var request = URLRequest(url: URL(string: url + path)!)
        request.timeoutInterval = 2
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

public struct InfluxDBServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
