import Logging
import LogTesting
import HTTPTesting
import Engine
import Foundation
import Synchronization
import TockModel

/// A TCP listener on 127.0.0.1 that keeps every line each connection sends, on its own thread.
final class LineListener: Sendable {
    let port: Int
    private let fd: Int32
    private let received = Mutex<[String]>([])
    private let stopped = Mutex(false)

    /// Listens on `port` (0: a free one).
    init(port: Int = 0) throws {
        fd = try Loopback.listen(port: port)
        self.port = Loopback.port(of: fd)
        let fd = fd
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { if stopped.withLock({ $0 }) { return } else { continue } }
                let text = Loopback.readAll(client)
                close(client)
                let lines = text.split(separator: "\n").map(String.init)
                received.withLock { $0 += lines }
            }
        }
    }

    var lines: [String] { received.withLock { $0 } }

    func stop() {
        stopped.withLock { $0 = true }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

/// An HTTP/1.1 receiver on 127.0.0.1 that answers every request with one fixed status and body, and keeps the
/// requests' bodies.
final class FixedHTTPReceiver: Sendable {
    let port: Int
    private let fd: Int32
    private let bodies = Mutex<[String]>([])
    private let stopped = Mutex(false)

    init(status: Int, reason: String, body: String) throws {
        fd = try Loopback.listen(port: 0)
        port = Loopback.port(of: fd)
        let fd = fd
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { if stopped.withLock({ $0 }) { return } else { continue } }
                let request = Loopback.readRequest(client)
                bodies.withLock { $0.append(request) }
                let answer = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                _ = answer.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                close(client)
            }
        }
    }

    var requests: [String] { bodies.withLock { $0 } }

    func stop() {
        stopped.withLock { $0 = true }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

enum Loopback {
    static func listen(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Foundation.listen(fd, 64) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw LoopbackError("cannot listen on 127.0.0.1:\(port): \(e)")
        }
        return fd
    }

    static func port(of fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port nothing listens on (it was free a moment ago).
    static func freePort() throws -> Int {
        let fd = try listen(port: 0)
        defer { close(fd) }
        return port(of: fd)
    }

    static func readAll(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads one request's head and its Content-Length body; returns the body.
    static func readRequest(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let text = String(decoding: data, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let head = text[..<end.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                let body = Array(data[(data.count - text[end.upperBound...].utf8.count)...])
                if body.count >= length { return String(decoding: body, as: UTF8.self) }
            }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return "" }
            data += buffer[0..<n]
        }
    }
}

struct LoopbackError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Log lines a queue or sink wrote.
final class LogLines: Sendable {
    private let lines = Mutex<[(LogLevel, String)]>([])
    var all: [String] { lines.withLock { $0.map(\.1) } }
    /// A logger whose lines are kept here, with their metadata (`topic`, `handler`, …) after the message as ` key=value`.
    var logger: Logger {
        .recording { [self] line in
            let fields = line.metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            lines.withLock { $0.append((line.level, line.message + fields)) }
        }
    }
    /// The lines' messages without their metadata.
    var messages: [String] { lines.withLock { $0.map(\.1) } }
}

/// An event of alert `id` at `time` seconds, with `value`.
func event(_ id: String, _ time: Int64 = 0, value: Double = 1, level: AlertLevel = .critical) -> AlertEvent {
    let t = time * 1_000_000_000
    let point = Point(name: "cpu", fields: ["value": .double(value)], time: t)
    return AlertEvent(id: id, message: "\(id) is \(level)", details: "", time: t, duration: 0, level: level,
                      previousLevel: .ok, recoverable: true, data: .point(point))
}

/// Waits (polling) until `condition` holds; fails the test with `what` after `seconds`.
func eventually(_ what: String, within seconds: Double = 60, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { throw LoopbackError("still not true after \(seconds)s: \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

extension HandlerOption {
    static func strings(_ items: [String]) -> HandlerOption { .list(items.map { .string($0) }) }
}
