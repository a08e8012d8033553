import Foundation
import LogTesting
import Glibc
import Testing
import TockModel
@testable import Collectors

/// A tiny authoritative DNS server on 127.0.0.1 (UDP), written independently of the collector's codec: it answers
/// `ok.test.` with the A record 192.0.2.10, `multi.test.` with a CNAME then the addresses 192.0.2.20, 2001:db8::1 and
/// 192.0.2.21, `missing.test.` with NXDOMAIN, and never answers `silent.test.`.
final class TinyDNSServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init(tcp: Bool = false) {
        let (listener, port) = loopbackSocket(Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue))
        fd = listener
        self.port = port
        if tcp {
            listen(listener, 4)
            Thread {
                var buffer = [UInt8](repeating: 0, count: 514)
                while true {
                    let client = accept(listener, nil, nil)
                    if client < 0 { return }
                    var got = 0
                    while got < 2 || got < 2 + (Int(buffer[0]) << 8 | Int(buffer[1])) {
                        let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress! + got, $0.count - got, 0) }
                        if n <= 0 { break }
                        got += n
                    }
                    if got > 2, let reply = Self.answer(Array(buffer[2..<got])) {
                        let framed = [UInt8(reply.count >> 8), UInt8(reply.count & 0xff)] + reply
                        _ = framed.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    }
                    close(client)
                }
            }.start()
            return
        }
        Thread {
            var buffer = [UInt8](repeating: 0, count: 512)
            while true {
                var peer = sockaddr_storage()
                var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = withUnsafeMutablePointer(to: &peer) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(listener, &buffer, buffer.count, 0, $0, &peerLength) }
                }
                if n <= 0 { return }
                guard let reply = Self.answer(Array(buffer[0..<n])) else { continue }
                _ = withUnsafePointer(to: &peer) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { to in
                        reply.withUnsafeBytes { sendto(listener, $0.baseAddress, $0.count, 0, to, peerLength) }
                    }
                }
            }
        }.start()
    }

    /// The reply to a query (header, one uncompressed question), or `nil` to stay silent.
    static func answer(_ query: [UInt8]) -> [UInt8]? {
        guard query.count > 12 else { return nil }
        var labels: [String] = []
        var i = 12
        while i < query.count, query[i] != 0 {
            let length = Int(query[i])
            labels.append(String(decoding: query[(i + 1)..<(i + 1 + length)], as: UTF8.self))
            i += 1 + length
        }
        let questionEnd = i + 5
        let name = labels.joined(separator: ".").lowercased()
        if name == "silent.test" { return nil }
        let found = name == "ok.test" || name == "multi.test"
        var answers: [[UInt8]] = []
        if name == "ok.test" {
            answers = [[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 10]]
        } else if name == "multi.test" {
            let target: [UInt8] = [3, 0x77, 0x77, 0x77, 0xc0, 0x0c]        // www. + a pointer to the question's name
            answers = [[0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60, 0, UInt8(target.count)] + target,
                       [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 20],
                       [0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1],
                       [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 21]]
        }
        var reply = Array(query[0..<2])
        reply += [0x81, found ? 0x80 : 0x83]             // response, recursion desired and available; rcode 0 or 3
        reply += [0, 1, 0, UInt8(answers.count), 0, 0, 0, 0]    // one question, the answers
        reply += query[12..<questionEnd]
        for answer in answers { reply += answer }
        return reply
    }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}

@Suite("dns_query: Telegraf's DNS probe against a loopback DNS server")
struct DNSQueryTests {
    func gather(_ options: [String: CollectorOptions.Value], log: LogLines = LogLines()) throws -> [Point] {
        var collector = try DNSQueryCollector.make(options)
        return try collector.gather(GatherContext(time: 42, timeout: .seconds(5), logger: log.logger))
    }

    @Test("an answered A query is success with rcode NOERROR and a query time; an unknown name is an error with rcode NXDOMAIN")
    func answers() throws {
        let server = TinyDNSServer()
        defer { server.stop() }
        let log = LogLines()
        let points = try gather(["servers": .strings(["127.0.0.1"]), "port": .int(Int64(server.port)),
                                 "domains": .strings(["ok.test", "missing.test"]), "record_type": .string("A")], log: log)
        #expect(points.count == 2)
        let ok = try #require(points.first { $0.tags["domain"] == "ok.test" })
        #expect(ok.name == "dns_query")
        #expect(ok.time == 42)
        #expect(ok.tags.dictionary == ["server": "127.0.0.1", "domain": "ok.test", "record_type": "A", "result": "success", "rcode": "NOERROR"])
        #expect(field(ok, "result_code") == .uint(0))
        #expect(field(ok, "rcode_value") == .int(0))
        let time = try #require(field(ok, "query_time_ms")?.numeric)
        #expect(time > 0 && time < 2000)

        let missing = try #require(points.first { $0.tags["domain"] == "missing.test" })
        #expect(missing.tags["result"] == "error")
        #expect(missing.tags["rcode"] == "NXDOMAIN")
        #expect(field(missing, "rcode_value") == .int(3))
        #expect(field(missing, "result_code") == .uint(2))
        #expect(log.all.contains { $0.0 == .error && $0.1.contains("NXDOMAIN") && $0.1.contains("missing.test") })
    }

    @Test("a server that stays silent is a timeout (result_code 1, no rcode), reported within the timeout")
    func silence() throws {
        let server = TinyDNSServer()
        defer { server.stop() }
        let started = ContinuousClock.now
        let points = try gather(["servers": .strings(["127.0.0.1"]), "port": .int(Int64(server.port)),
                                 "domains": .strings(["silent.test", "ok.test"]), "record_type": .string("A"),
                                 "timeout": .string("300ms")])
        #expect(ContinuousClock.now - started < .seconds(2))
        let silent = try #require(points.first { $0.tags["domain"] == "silent.test" })
        #expect(silent.tags["result"] == "timeout")
        #expect(silent.tags["rcode"] == nil)
        #expect(field(silent, "result_code") == .uint(1))
        #expect(field(silent, "rcode_value") == nil)
        #expect(field(silent, "query_time_ms") == .double(0))
        // The other query of the same gather was not held up by the silent one.
        #expect(points.first { $0.tags["domain"] == "ok.test" }?.tags["result"] == "success")
    }

    @Test("include_fields: first_ip is the first A or AAAA answer as ip; all_ips gives ip_N by the record's index among all answers")
    func includeFields() throws {
        let server = TinyDNSServer()
        defer { server.stop() }
        let base: [String: CollectorOptions.Value] = ["servers": .strings(["127.0.0.1"]), "port": .int(Int64(server.port)),
                                                      "domains": .strings(["multi.test", "missing.test"]), "record_type": .string("A")]
        func point(_ points: [Point], _ domain: String) throws -> Point { try #require(points.first { $0.tags["domain"] == domain }) }
        func fieldNames(_ p: Point) -> Set<String> { Set(p.fields.map(\.key)) }
        let plain = try point(try gather(base), "multi.test")
        #expect(fieldNames(plain) == ["query_time_ms", "result_code", "rcode_value"], "no extra field unless asked")

        let first = try point(try gather(base.merging(["include_fields": .strings(["first_ip"])]) { $1 }), "multi.test")
        #expect(field(first, "ip") == .string("192.0.2.20"), "the CNAME before it is skipped")
        #expect(fieldNames(first) == ["query_time_ms", "result_code", "rcode_value", "ip"])

        let all = try gather(base.merging(["include_fields": .strings(["first_ip", "all_ips"])]) { $1 })
        let multi = try point(all, "multi.test")
        #expect(field(multi, "ip") == .string("192.0.2.20"))
        #expect(field(multi, "ip_0") == nil, "index 0 is the CNAME")
        #expect(field(multi, "ip_1") == .string("192.0.2.20"))
        #expect(field(multi, "ip_2") == .string("2001:db8::1"))
        #expect(field(multi, "ip_3") == .string("192.0.2.21"))
        // An error answer has no addresses to report.
        #expect(fieldNames(try point(all, "missing.test")) == ["query_time_ms", "result_code", "rcode_value"])
    }

    @Test("network = tcp: the query and answer are framed by their length")
    func tcp() throws {
        let server = TinyDNSServer(tcp: true)
        defer { server.stop() }
        let points = try gather(["servers": .strings(["127.0.0.1"]), "port": .int(Int64(server.port)), "network": .string("tcp"),
                                 "domains": .strings(["ok.test"]), "record_type": .string("A")])
        #expect(points.first?.tags["result"] == "success")
        #expect(points.first.flatMap { field($0, "rcode_value") } == .int(0))
    }

    @Test("a port nobody listens on is an error, not a crash nor a timeout")
    func refused() throws {
        // UDP port 9 (discard): below the ephemeral range, so no parallel test can be bound there.
        let port: UInt16 = 9
        let points = try gather(["servers": .strings(["127.0.0.1"]), "port": .int(Int64(port)), "domains": .strings(["ok.test"]),
                                 "timeout": .int(1)])
        #expect(points.count == 1)
        #expect(points[0].tags["result"] == "error")
        #expect(field(points[0], "result_code") == .uint(2))
    }

    @Test("the query is a standard DNS question, and the codec reads names through compression pointers")
    func codec() throws {
        let query = try #require(DNSMessage.query(id: 0x1234, name: "ok.test", type: DNSMessage.RecordType.MX.code))
        #expect(query == [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0x6f, 0x6b, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 15, 0, 1])
        let reply = try #require(TinyDNSServer.answer(DNSMessage.query(id: 7, name: "ok.test.", type: 1)!))
        let message = try #require(DNSMessage(reply))
        #expect(message.id == 7 && message.isResponse && message.rcode == 0)
        #expect(message.questionNames == ["ok.test."])
        #expect(message.answers == [DNSMessage.Record(name: "ok.test.", type: 1, ttl: 60, data: [192, 0, 2, 10])])
        #expect(DNSMessage(Array(reply.prefix(20))) == nil)
        // A pointer to itself is refused, not followed forever.
        #expect(DNSMessage([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]) == nil)
        #expect(DNSMessage.encode(name: ".") == [0])
        #expect(DNSMessage.encode(name: "a..b") == nil)
        #expect(DNSMessage.rcodeName(3) == "NXDOMAIN")
    }

    @Test("settings: servers are required; record_type, network and port are checked; unknown options refused")
    func settings() throws {
        #expect(throws: CollectorError.self) { try DNSQueryCollector.make([:]) }
        #expect(throws: CollectorError.self) { try DNSQueryCollector.make(["servers": .strings(["127.0.0.1"]), "domains": .strings(["a.test"]), "record_type": .string("AXFR")]) }
        #expect(throws: CollectorError.self) { try DNSQueryCollector.make(["servers": .strings(["127.0.0.1"]), "network": .string("sctp")]) }
        #expect(throws: CollectorError.self) { try DNSQueryCollector.make(["servers": .strings(["127.0.0.1"]), "port": .int(70000)]) }
        #expect(throws: CollectorError.self) { try DNSQueryCollector.make(["servers": .strings(["127.0.0.1"]), "timeout": .string("soon")]) }
        #expect(throws: CollectorError("dns_query", "unknown option \"domain\" (options: domains, include_fields, network, port, record_type, servers, timeout)")) {
            try DNSQueryCollector.make(["servers": .strings(["127.0.0.1"]), "domain": .string("x")])
        }
        #expect(throws: CollectorError("dns_query", "invalid field \"ttl\" included (include_fields takes first_ip and all_ips)")) {
            try DNSQueryCollector.make(["servers": .strings(["127.0.0.1"]), "include_fields": .strings(["first_ip", "ttl"])])
        }
        // Telegraf's defaults: the root's NS records over UDP port 53, within 2s.
        let defaults = try DNSQueryCollector.make(["servers": .strings(["127.0.0.1"])])
        #expect(defaults.domains == ["."] && defaults.recordType == .NS && !defaults.tcp && defaults.port == 53 && defaults.timeout == 2_000_000_000)
        #expect(!defaults.firstIP && !defaults.allIPs)
        #expect(try DNSQueryCollector.make(["servers": .strings(["127.0.0.1"]), "timeout": .int(0)]).timeout == 2_000_000_000)
        #expect(try DNSQueryCollector.make(["servers": .strings(["127.0.0.1"]), "timeout": .string("1500ms")]).timeout == 1_500_000_000)
    }
}
