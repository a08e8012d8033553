import Foundation
import Glibc
@testable import Server
import Testing

/// `/kapacitor/v1preview`, which Chronograf's script editor reads: ping, and the daemon's log as a live stream.
@Suite("Kapacitor's preview API")
struct PreviewRouteTests {
    @Test("ping answers 204")
    func ping() async throws {
        try await Fixture.with { client in
            let answer = try await client.execute(uri: "/kapacitor/v1preview/ping")
            #expect(answer.status == .noContent)
        }
    }

    @Test("logs streams the lines whose fields match the query, as JSON objects when asked, until the client leaves")
    func logs() async throws {
        let f = Fixture()
        defer { f.remove() }
        let master = try f.master()
        try await f.serve(master) { client in
            // The follower's socket reads block: on a thread of their own, never on the cooperative pool the server needs.
            let port = client.port
            let follower = try await onThread { try LogFollower(port: port, query: "task=cpu", json: true) }
            defer { follower.close() }
            #expect(follower.head.hasPrefix("HTTP/1.1 200"))
            #expect(follower.head.lowercased().contains("content-type: application/json"))
            // Two tasks log the points they see; only the lines of `cpu` reach this follower.
            for id in ["other", "cpu"] {
                let body = #"{"id":"\#(id)","dbrps":[{"db":"telegraf","rp":"autogen"}],"status":"enabled","script":"stream|from().measurement('cpu')|log()"}"#
                let created = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: body)
                #expect(created.status == .ok)
            }
            _ = try await client.execute(uri: "/write?db=telegraf&rp=autogen&precision=s", method: "POST", body: "cpu value=7 1\n")
            let lines = try await onThread { try follower.lines(until: { !$0.isEmpty }) }
            #expect(!lines.isEmpty)
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["task"] as? String == "cpu", "\(line)")
                #expect(object?["lvl"] != nil && object?["msg"] != nil && object?["ts"] != nil)
            }
        }
        // The follower left with its connection; nothing keeps its lines.
        for _ in 0..<100 where (master.log.handler as? TockLogHandler)?.output.followerCount ?? 0 > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect((master.log.handler as? TockLogHandler)?.output.followerCount ?? 0 == 0)
    }

    @Test("the same key twice in the query is refused")
    func duplicatePairs() async throws {
        try await Fixture.with { client in
            let answer = try await client.execute(uri: "/kapacitor/v1preview/logs?task=a&task=b")
            #expect(answer.status == .badRequest)
            #expect(answer.json["error"] == .string("query params cannot contain duplicate pairs"))
        }
    }
}

/// Runs blocking `body` on a new thread and returns its result.
private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A raw HTTP/1.1 client that reads a chunked answer as it arrives.
private final class LogFollower: @unchecked Sendable {
    let fd: Int32
    private(set) var head = ""
    private var pending: [UInt8] = []

    init(port: Int, query: String, json: Bool) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = "GET /kapacitor/v1preview/logs?\(query) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + (json ? "Content-Type: application/json\r\n" : "") + "\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        while true {
            if let end = find("\r\n\r\n") {
                head = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 4)
                return
            }
            guard read() else { throw POSIXError(.EIO) }
        }
    }

    private func find(_ s: String) -> Int? {
        let needle = Array(s.utf8)
        guard pending.count >= needle.count else { return nil }
        for i in 0...(pending.count - needle.count) where Array(pending[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    private func read() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return false }
        pending += buffer[0..<n]
        return true
    }

    /// The body's lines (chunk framing removed) read until `done` says enough or 20 s pass.
    func lines(until done: ([String]) -> Bool) throws -> [String] {
        var body: [UInt8] = []
        var lines: [String] = []
        while !done(lines) {
            // Decode whole chunks: size CRLF data CRLF.
            while let lineEnd = find("\r\n"), let size = Int(String(decoding: pending[..<lineEnd], as: UTF8.self), radix: 16),
                  pending.count >= lineEnd + 2 + size + 2 {
                body += pending[(lineEnd + 2)..<(lineEnd + 2 + size)]
                pending.removeFirst(lineEnd + 2 + size + 2)
            }
            lines = String(decoding: body, as: UTF8.self).split(separator: "\n").map(String.init)
            if done(lines) { break }
            guard read() else { break }
        }
        return lines
    }

    func close() { Glibc.close(fd) }
}
