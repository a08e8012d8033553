import Foundation
import LogTesting
import Glibc
import Testing
import TockModel
@testable import Collectors

/// What this machine lets the tests do: open ICMP sockets (root, CAP_NET_RAW or ping_group_range), use ::1, run ping.
enum PingSupport {
    static func icmpAllowed(_ family: Int32) -> Bool {
        guard case .success(let socket) = ICMPEcho.open(family: family) else { return false }
        close(socket.fd)
        return true
    }

    static let ipv4 = icmpAllowed(AF_INET)
    static let ipv6: Bool = {
        guard icmpAllowed(AF_INET6) else { return false }
        return (try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8))?.contains("00000000000000000000000000000001") == true
    }()
    static let pingProgram = PingCollector.locate("ping") != nil
}

@Suite("ping: ICMP echo to loopback, natively and through the ping program")
struct PingTests {
    func gather(_ collector: inout PingCollector, log: LogLines = LogLines()) -> [Point] {
        (try? collector.gather(GatherContext(time: 9, timeout: .seconds(5), logger: log.logger))) ?? []
    }

    func ping(_ options: [String: CollectorOptions.Value], log: LogLines = LogLines()) throws -> Point {
        var collector = try PingCollector.make(options)
        return try #require(gather(&collector, log: log).first)
    }

    /// The fields every successful ping of loopback has, whichever way it was sent.
    func expectAnswered(_ p: Point, url: String, count: Int64) {
        #expect(p.name == "ping")
        #expect(p.tags.dictionary == ["url": url])
        #expect(field(p, "result_code") == .int(0))
        #expect(field(p, "packets_transmitted") == .int(count))
        #expect(field(p, "packets_received") == .int(count))
        #expect(field(p, "percent_packet_loss") == .double(0))
        #expect((field(p, "ttl")?.numeric ?? 0) > 0)
        let min = field(p, "minimum_response_ms")?.numeric ?? -1
        let avg = field(p, "average_response_ms")?.numeric ?? -1
        let max = field(p, "maximum_response_ms")?.numeric ?? -1
        #expect(min >= 0 && min <= avg && avg <= max && max < 1000)
        #expect((field(p, "standard_deviation_ms")?.numeric ?? -1) >= 0)
    }

    @Test("native: two echo requests to 127.0.0.1 are both answered, with Telegraf's fields and the reply's TTL",
          .enabled(if: PingSupport.ipv4, "this process may open no ICMP socket (not root, no CAP_NET_RAW, ping_group_range excludes its group)"))
    func nativeIPv4() throws {
        let log = LogLines()
        let p = try ping(["urls": .strings(["127.0.0.1"]), "count": .int(2), "ping_interval": .string("200ms")], log: log)
        expectAnswered(p, url: "127.0.0.1", count: 2)
        #expect(field(p, "ttl") == .int(64))
        #expect(!log.all.contains { $0.0 == .warning }, "the native method needed no fallback")
    }

    @Test("native: ::1 over ICMPv6, its hop limit as ttl",
          .enabled(if: PingSupport.ipv6, "no ICMPv6 socket or no ::1 on this machine"))
    func nativeIPv6() throws {
        let p = try ping(["urls": .strings(["::1"]), "ipv6": .bool(true)])
        expectAnswered(p, url: "::1", count: 1)
    }

    @Test("exec: the ping program's output is read as Telegraf reads it",
          .enabled(if: PingSupport.pingProgram, "no ping program installed (apt-get install iputils-ping)"))
    func exec() throws {
        let p = try ping(["urls": .strings(["127.0.0.1"]), "method": .string("exec"), "count": .int(2), "ping_interval": .string("200ms")])
        expectAnswered(p, url: "127.0.0.1", count: 2)
    }

    @Test("an unknown host is result_code 1, with the error logged, natively and through the program")
    func unknownHost() throws {
        let log = LogLines()
        let native = try ping(["urls": .strings(["no-such-host.invalid"])], log: log)
        #expect(native.fields.map(\.key) == ["result_code"])
        #expect(field(native, "result_code") == .int(1))
        #expect(log.all.contains { $0.0 == .error && $0.1.contains("no-such-host.invalid") })
        if PingSupport.pingProgram {
            let exec = try ping(["urls": .strings(["no-such-host.invalid"]), "method": .string("exec")])
            #expect(field(exec, "result_code") == .int(1))
        }
    }

    @Test("without ICMP sockets the native method falls back to the ping program, said once; without it, result_code 2")
    func fallback() throws {
        var collector = try PingCollector.make(["urls": .strings(["127.0.0.1"])])
        collector.denySockets = true
        let log = LogLines()
        let first = try #require(gather(&collector, log: log).first)
        let second = try #require(gather(&collector, log: log).first)
        if PingSupport.pingProgram {
            expectAnswered(first, url: "127.0.0.1", count: 1)
            expectAnswered(second, url: "127.0.0.1", count: 1)
            #expect(log.all.filter { $0.0 == .warning && $0.1.contains("running the ping program instead") }.count == 1)
        } else {
            #expect(field(first, "result_code") == .int(2))
            #expect(log.all.contains { $0.0 == .error && $0.1.contains("no ping program") })
        }
        var missing = try PingCollector.make(["urls": .strings(["127.0.0.1"]), "method": .string("exec"), "binary": .string("/nonexistent/ping")])
        let log2 = LogLines()
        let none = try #require(gather(&missing, log: log2).first)
        #expect(none.fields.map(\.key) == ["result_code"])
        #expect(field(none, "result_code") == .int(2))
        #expect(log2.all.contains { $0.0 == .error && $0.1.contains("no /nonexistent/ping program") })
    }

    @Test("ping output: iputils' and BSD's summaries, the first ttl, mdev as the deviation; garbage is refused")
    func output() throws {
        let iputils = """
            PING 127.0.0.1 (127.0.0.1) 16(44) bytes of data.
            24 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms
            24 bytes from 127.0.0.1: icmp_seq=2 ttl=63 time=0.070 ms

            --- 127.0.0.1 ping statistics ---
            3 packets transmitted, 2 received, 33.3333% packet loss, time 1001ms
            rtt min/avg/max/mdev = 0.045/0.057/0.070/0.012 ms
            """
        let stats = try #require(PingOutput.parse(iputils))
        #expect(stats.transmitted == 3 && stats.received == 2 && stats.ttl == 64)
        #expect(stats.rtt?.min == 0.045 && stats.rtt?.avg == 0.057 && stats.rtt?.max == 0.070 && stats.rtt?.stddev == 0.012)
        let bsd = """
            PING www.example.org (93.184.216.34): 56 data bytes
            64 bytes from 93.184.216.34: icmp_seq=0 ttl=54 time=52.172 ms

            --- www.example.org ping statistics ---
            2 packets transmitted, 2 packets received, 0.0% packet loss
            round-trip min/avg/max/stddev = 34.843/43.508/52.172/8.664 ms
            """
        let b = try #require(PingOutput.parse(bsd))
        #expect(b.transmitted == 2 && b.received == 2 && b.ttl == 54 && b.rtt?.stddev == 8.664)
        let lost = try #require(PingOutput.parse("--- h ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n"))
        #expect(lost.received == 0 && lost.rtt == nil)
        #expect(PingOutput.parse("ping: unknown host") == nil)
        #expect(PingOutput.parse("x packets transmitted, 1 received") == nil)
    }

    @Test("ICMP packets: the echo request's checksum verifies; replies are told from requests")
    func packets() {
        let request = ICMPEcho.echoRequest(v6: false, id: 0xbeef, seq: 3, size: 56)
        #expect(request.count == 64)
        #expect(Array(request[0..<2]) == [8, 0])
        #expect(ICMPEcho.checksum(request) == 0, "a packet with its checksum in place sums to zero")
        var reply = request
        reply[0] = 0
        let parsed = ICMPEcho.parseReply(reply, v6: false, raw: false)
        #expect(parsed == ICMPEcho.Reply(isEchoReply: true, id: 0xbeef, seq: 3, ttl: nil))
        #expect(ICMPEcho.parseReply(request, v6: false, raw: false)?.isEchoReply == false)
        // A raw IPv4 socket hands over the IP header: its TTL is the reply's.
        let header: [UInt8] = [0x45, 0, 0, 84, 0, 0, 0, 0, 57, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]
        #expect(ICMPEcho.parseReply(header + reply, v6: false, raw: true)?.ttl == 57)
        #expect(ICMPEcho.parseReply([0x45, 0, 0], v6: false, raw: true) == nil)
    }

    @Test("the exec method's arguments are Telegraf's for Linux, its deadline inside the section's timeout")
    func arguments() throws {
        let collector = try PingCollector.make(["urls": .strings(["h"]), "count": .int(3), "timeout": .string("2s"),
                                                "interface": .string("eth0"), "deadline": .string("4s")])
        #expect(collector.execArguments("h", limit: 4_000_000_000) == ["-c", "3", "-n", "-s", "16", "-i", "1", "-W", "2", "-w", "4", "-I", "eth0", "h"])
        #expect(collector.runLimit(GatherContext(time: 0, timeout: .seconds(2))) == 1_900_000_000)
        #expect(collector.runLimit(GatherContext(time: 0, timeout: .seconds(30))) == 4_000_000_000)
    }

    @Test("percentiles: Telegraf's interpolation (R7, truncated to nanoseconds) on its own test's round trips")
    func percentileArithmetic() {
        // Telegraf's TestPingGatherNative: round trips of 3, 4, 1, 5 and 2 ms give 3, 4.799999 and 4.96.
        let sorted: [Int64] = [3, 4, 1, 5, 2].map { $0 * 1_000_000 }.sorted()
        #expect(Double(PingCollector.percentile(sorted, 50)) / 1e6 == 3)
        #expect(Double(PingCollector.percentile(sorted, 95)) / 1e6 == 4.799999)
        #expect(Double(PingCollector.percentile(sorted, 99)) / 1e6 == 4.96)
        #expect(PingCollector.percentile(sorted, 0) == 1_000_000)
        #expect(PingCollector.percentile(sorted, 100) == 5_000_000)
        #expect(PingCollector.percentile(sorted, 150) == 5_000_000, "clamped to 100")
        #expect(PingCollector.percentile(sorted, -5) == 1_000_000, "clamped to 0")
        #expect(PingCollector.percentile([7], 90) == 7)
        #expect(PingCollector.percentile([], 50) == 0)
    }

    @Test("percentiles: the native method adds percentileN_ms between the minimum and the maximum",
          .enabled(if: PingSupport.ipv4, "this process may open no ICMP socket (not root, no CAP_NET_RAW, ping_group_range excludes its group)"))
    func nativePercentiles() throws {
        let p = try ping(["urls": .strings(["127.0.0.1"]), "count": .int(3), "ping_interval": .string("200ms"),
                          "percentiles": .strings(["50", "90", "150"])])
        expectAnswered(p, url: "127.0.0.1", count: 3)
        let min = try #require(field(p, "minimum_response_ms")?.numeric)
        let max = try #require(field(p, "maximum_response_ms")?.numeric)
        let p50 = try #require(field(p, "percentile50_ms")?.numeric)
        let p90 = try #require(field(p, "percentile90_ms")?.numeric)
        #expect(min <= p50 && p50 <= p90 && p90 <= max)
        #expect(abs(try #require(field(p, "percentile150_ms")?.numeric) - max) < 0.000_001, "over 100 is the maximum, named as written")
    }

    @Test("percentiles: the exec method reports none (Telegraf computes them for native only)",
          .enabled(if: PingSupport.pingProgram, "no ping program installed (apt-get install iputils-ping)"))
    func execHasNoPercentiles() throws {
        let p = try ping(["urls": .strings(["127.0.0.1"]), "method": .string("exec"), "percentiles": .strings(["50"])])
        expectAnswered(p, url: "127.0.0.1", count: 1)
        #expect(field(p, "percentile50_ms") == nil)
    }

    @Test("settings: urls required; method, count, size and durations checked; unknown options refused")
    func settings() throws {
        #expect(throws: CollectorError.self) { try PingCollector.make([:]) }
        #expect(throws: CollectorError("ping", "method must be native or exec, not \"icmp\"")) {
            try PingCollector.make(["urls": .strings(["h"]), "method": .string("icmp")])
        }
        #expect(throws: CollectorError.self) { try PingCollector.make(["urls": .strings(["h"]), "count": .int(0)]) }
        #expect(throws: CollectorError.self) { try PingCollector.make(["urls": .strings(["h"]), "size": .int(-1)]) }
        #expect(throws: CollectorError.self) { try PingCollector.make(["urls": .strings(["h"]), "deadline": .string("later")]) }
        #expect(throws: CollectorError.self) { try PingCollector.make(["urls": .strings(["h"]), "count": .string("3")]) }
        #expect(throws: CollectorError.self) { try PingCollector.make(["urls": .strings(["h"]), "percentile": .int(50)]) }
        #expect(throws: CollectorError("ping", "option \"percentiles\" must be a list of integers, not [50, 99.9]")) {
            try PingCollector.make(["urls": .strings(["h"]), "percentiles": .strings(["50", "99.9"])])
        }
        // Telegraf's config.Duration: numbers are seconds.
        let numbers = try PingCollector.make(["urls": .strings(["h"]), "ping_interval": .double(0.5), "deadline": .int(3), "timeout": .string("2")])
        #expect(numbers.interval == 500_000_000 && numbers.deadline == 3_000_000_000 && numbers.timeout == 2_000_000_000)
    }
}
