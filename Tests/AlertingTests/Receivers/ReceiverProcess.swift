import HTTPTesting
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real receiver (aiosmtpd, mosquitto, snmptrapd, or a Python script) started on a loopback port for one test,
/// stopped when the test ends.
final class ReceiverProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let directory: String
    private let logPath: String

    /// Starts `executable` with `arguments`; `ready` is a text its stdout or stderr prints once it listens, or nil to
    /// wait for the TCP port to accept.
    init(_ executable: String, _ arguments: [String], port: Int, directory: String, ready: String?) async throws {
        self.port = port
        self.directory = directory
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ReceiverError("\(executable) is not installed (the receiver these tests need)")
        }
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("tock-receiver-\(UUID().uuidString.prefix(8)).log").path
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        for _ in 0..<400 {
            if !process.isRunning { throw ReceiverError("\(executable) exited: \(text)") }
            if let ready {
                if text.contains(ready) { return }
            } else if Self.accepts(port: port) {
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw ReceiverError("\(executable) did not start on port \(port): \(text)")
    }

    /// What it printed so far.
    var text: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until `condition` holds for what it printed.
    func waitForOutput(timeout: Duration = .seconds(10), _ condition: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let t = text
            if condition(t) { return t }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw ReceiverError("timed out waiting for the receiver; it printed:\n\(text)")
    }

    func stop() {
        if process.isRunning {
            // SIGKILL: the test process may hand its children a mask that blocks SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    deinit { stop() }

    static func temporaryDirectory(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func freePort(udp: Bool = false) throws -> Int {
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ReceiverError("socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0 }
        }
        guard bound else { throw ReceiverError("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

// ReceiverError is declared beside HTTPReceiver (Support/HTTPReceiver.swift).
