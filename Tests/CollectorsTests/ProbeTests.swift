import Foundation
import Glibc
import Testing
import TockModel
@testable import Collectors

/// A loopback TCP or UDP server for the probes: answers each connection (or datagram) with `reply`, after `delay`.
final class LoopbackServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init(udp: Bool = false, reply: String, delay: Double = 0) throws {
        let (fd, port) = loopbackSocket(Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue))
        self.fd = fd
        self.port = port
        if !udp { listen(fd, 8) }
        Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                if udp {
                    var peer = sockaddr_storage()
                    var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    let n = withUnsafeMutablePointer(to: &peer) { p in
                        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &peerLength) }
                    }
                    if n <= 0 { return }
                    Thread.sleep(forTimeInterval: delay)
                    _ = withUnsafePointer(to: &peer) { p in
                        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { to in
                            Array(reply.utf8).withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, to, peerLength) }
                        }
                    }
                } else {
                    let client = accept(fd, nil, nil)
                    if client < 0 { return }
                    // Give a client that speaks first (HTTP) a moment to send its request, so that closing does
                    // not reset the connection over unread bytes; a client that waits for a banner is not held long.
                    var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
                    _ = poll(&poller, 1, 200)
                    _ = recv(client, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    Thread.sleep(forTimeInterval: delay)
                    _ = recv(client, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    _ = Array(reply.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    close(client)
                }
            }
        }.start()
    }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}

@Suite("probes: net_response and http_response against loopback servers")
struct ProbeTests {
    func probe(_ options: [String: CollectorOptions.Value]) throws -> Point {
        var collector = try NetResponseCollector.make(options)
        return try collector.gather(GatherContext(time: 1))[0]
    }

    @Test("tcp: success with the expected string, string_mismatch, connection_failed to a closed port")
    func tcp() throws {
        let server = try LoopbackServer(reply: "220 mail.example ESMTP ready\r\n")
        defer { server.stop() }
        let ok = try probe(["address": .string("127.0.0.1:\(server.port)"), "expect": .string("ESMTP")])
        #expect(ok.tags.dictionary == ["server": "127.0.0.1", "port": "\(server.port)", "protocol": "tcp", "result": "success"])
        #expect(field(ok, "result_code") == .int(0))
        #expect(field(ok, "string_found") == .bool(true))
        #expect((field(ok, "response_time")?.numeric ?? -1) >= 0)
        let mismatch = try probe(["address": .string("127.0.0.1:\(server.port)"), "expect": .string("^SSH")])
        #expect(mismatch.tags["result"] == "string_mismatch")
        #expect(field(mismatch, "result_code") == .int(4))

        let closed = try LoopbackServer(reply: "")
        let port = closed.port
        closed.stop()
        let refused = try probe(["address": .string("127.0.0.1:\(port)")])
        #expect(refused.tags["result"] == "connection_failed")
        #expect(field(refused, "result_code") == .int(2))
        #expect(field(refused, "response_time") == nil)
    }

    @Test("tcp: a server that answers too late is read_failed; udp: an answer matching expect is success")
    func timeoutsAndUDP() throws {
        let slow = try LoopbackServer(reply: "late\n", delay: 1.0)
        defer { slow.stop() }
        let late = try probe(["address": .string("127.0.0.1:\(slow.port)"), "expect": .string("late"), "read_timeout": .string("200ms")])
        #expect(late.tags["result"] == "read_failed")
        #expect(field(late, "result_code") == .int(3))

        let echo = try LoopbackServer(udp: true, reply: "PONG v2")
        defer { echo.stop() }
        let udp = try probe(["address": .string("127.0.0.1:\(echo.port)"), "protocol": .string("udp"),
                             "send": .string("PING"), "expect": .string("PONG")])
        #expect(udp.tags["protocol"] == "udp")
        #expect(udp.tags["result"] == "success")
        #expect(throws: CollectorError.self) { try NetResponseCollector.make(["address": .string("127.0.0.1:1"), "protocol": .string("udp")]) }
    }

    @Test("http_response: status, content length and string match; a wrong status is response_status_code_mismatch; a closed port is connection_failed")
    func http() throws {
        let body = "{\"service_status\": \"up\"}"
        let server = try LoopbackServer(reply: "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body)
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/health"
        var collector = try HTTPResponseCollector.make(["urls": .strings([url]), "response_string_match": .string("\"service_status\": \"up\"")])
        let p = try collector.gather(GatherContext(time: 1))[0]
        #expect(p.tags.dictionary == ["server": url, "method": "GET", "status_code": "200", "result": "success"])
        #expect(field(p, "http_response_code") == .int(200))
        #expect(field(p, "content_length") == .int(Int64(body.utf8.count)))
        #expect(field(p, "response_string_match") == .int(1))
        #expect(field(p, "result_code") == .int(0))

        var strict = try HTTPResponseCollector.make(["urls": .strings([url]), "response_status_code": .int(204)])
        let mismatch = try strict.gather(GatherContext(time: 1))[0]
        #expect(mismatch.tags["result"] == "response_status_code_mismatch")
        #expect(field(mismatch, "response_status_code_match") == .int(0))

        let closed = try LoopbackServer(reply: "")
        let port = closed.port
        closed.stop()
        var down = try HTTPResponseCollector.make(["urls": .strings(["http://127.0.0.1:\(port)/"]), "response_timeout": .string("2s")])
        let failed = try down.gather(GatherContext(time: 1))[0]
        #expect(failed.tags["result"] == "connection_failed")
        #expect(field(failed, "result_code") == .int(3))
        #expect(failed.tags["status_code"] == nil)
    }
}

@Suite("prometheus: scraping an exporter, as Telegraf's prometheus input")
struct PrometheusScrapeTests {
    @Test("samples become Telegraf-shaped points tagged with the url; a target that is down fails the gather with its address")
    func scrape() throws {
        let body = "# TYPE node_load1 gauge\nnode_load1 0.25\n# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 7\n"
        let server = try LoopbackServer(reply: "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body)
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/metrics"
        var collector = try PrometheusCollector.make(["urls": .strings([url])])
        let points = try collector.gather(GatherContext(time: 5))
        #expect(points.count == 2)
        let load = try #require(points.first { $0.name == "node_load1" })
        #expect(load.tags.dictionary == ["url": url])
        #expect(field(load, "gauge") == .double(0.25))
        let requests = try #require(points.first { $0.name == "http_requests_total" })
        #expect(requests.tags.dictionary == ["code": "200", "url": url])
        #expect(field(requests, "counter") == .double(7))

        let closed = try LoopbackServer(reply: "")
        let port = closed.port
        closed.stop()
        var down = try PrometheusCollector.make(["urls": .strings(["http://127.0.0.1:\(port)/metrics"]), "response_timeout": .string("1s")])
        #expect { try down.gather(GatherContext(time: 5)) } throws: {
            ($0 as? CollectorError)?.message.contains("http://127.0.0.1:\(port)/metrics") == true
        }
        #expect(throws: CollectorError.self) { try PrometheusCollector.make(["urls": .strings([url]), "metric_version": .int(2)]) }
    }
}
