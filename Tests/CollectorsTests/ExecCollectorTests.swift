import Foundation
import LogTesting
import Synchronization
import Testing
import TockModel
@testable import Collectors
@testable import PluginHost
import PluginSupervisor
import UDFProtocol

let fixtures: String = {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    url.deleteLastPathComponent()
    return url.path + "/Fixtures/collectors"
}()

@Suite("exec: Telegraf's exec input, a command per gather with a deadline")
struct ExecCollectorTests {
    func gather(_ options: [String: CollectorOptions.Value], timeout: Duration = .seconds(5),
                log: LogLines = LogLines()) throws -> [Point] {
        var exec = try ExecCollector.make(options)
        return try exec.gather(GatherContext(time: 7_000_000_000, timeout: timeout, logger: log.logger))
    }

    @Test("line protocol from each command, lines without a time stamped with the gather's time")
    func influx() throws {
        let points = try gather(["commands": .strings(["sh -c 'echo temp,sensor=a value=42'",
                                                        "printf 'temp,sensor=b value=7 123\\n'"])])
        #expect(points.count == 2)
        #expect(points.first { $0.tags["sensor"] == "a" }?.time == 7_000_000_000)
        #expect(points.first { $0.tags["sensor"] == "b" }?.time == 123)
    }

    @Test("Prometheus text: a gauge's value in field gauge, labels as tags")
    func prometheus() throws {
        let points = try gather(["commands": .strings(["printf '# TYPE queue_depth gauge\\nqueue_depth{queue=\"mail\"} 12\\n'"]),
                                 "data_format": .string("prometheus")])
        #expect(points.count == 1)
        #expect(points[0].name == "queue_depth")
        #expect(points[0].tags.dictionary == ["queue": "mail"])
        #expect(points[0].fields.first?.key == "gauge")
    }

    @Test("a command that hangs is killed at the deadline, with its process group; the error says so")
    func timeout() throws {
        let started = ContinuousClock.now
        #expect {
            try gather(["commands": .strings(["sh -c 'sleep 30 & sleep 30'"])], timeout: .milliseconds(300))
        } throws: { ($0 as? CollectorError)?.message.contains("timed out after") == true }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("exec's own timeout (Telegraf's, default 5s) kills a command even when the gather may last longer")
    func ownTimeout() throws {
        let started = ContinuousClock.now
        #expect {
            try gather(["commands": .strings(["sh -c 'sleep 30'"]), "timeout": .string("300ms")], timeout: .seconds(20))
        } throws: { ($0 as? CollectorError)?.message.contains("timed out after 300ms") == true }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(try ExecCollector.make(["commands": .strings(["true"])]).timeout == 5_000_000_000)
        #expect(try ExecCollector.make(["commands": .strings(["true"]), "timeout": .int(12)]).gatherBound == .seconds(12))
        #expect(throws: CollectorError.self) { try ExecCollector.make(["commands": .strings(["true"]), "timeout": .string("0s")]) }
    }

    @Test("a failing command is reported with its exit status and last stderr lines; the others' points are kept")
    func failure() throws {
        let log = LogLines()
        let points = try gather(["commands": .strings(["sh -c 'echo no disk here >&2; exit 2'", "echo ok value=1"])], log: log)
        #expect(points.map(\.name) == ["ok"])
        #expect(log.all.contains { $0.0 == .error && $0.1.contains("exited with status 2") && $0.1.contains("no disk here") })
        #expect {
            try gather(["commands": .strings(["sh -c 'echo boom >&2; exit 1'"])])
        } throws: { ($0 as? CollectorError)?.message.contains("boom") == true }
    }

    @Test("bad settings are refused: an empty command list, an unclosed quote, an unknown data format")
    func settings() {
        #expect(throws: CollectorError.self) { try ExecCollector.make([:]) }
        #expect(throws: CollectorError.self) { try ExecCollector.make(["commands": .strings(["echo 'oops"])]) }
        #expect(throws: CollectorError("exec", "data_format \"xml\" is not supported (supported: influx, prometheus, json)")) {
            try ExecCollector.make(["commands": .strings(["true"]), "data_format": .string("xml")])
        }
    }
}

@Suite("execd: Telegraf execd plugins run unchanged, supervised", .serialized)
struct ExecdCollectorTests {
    final class Received: Sendable {
        let points = Mutex<[Point]>([])
        let log = LogLines()
        var context: StreamContext {
            StreamContext(clock: { 1 }, logger: log.logger, emit: { [self] new in self.points.withLock { $0 += new } })
        }
        var count: Int { points.withLock { $0.count } }
    }

    func waitFor(_ what: String, timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CollectorError("test", "timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("signal STDIN: a newline per tick gets a line of line protocol; the environment and stderr levels pass through")
    func stdinSignal() async throws {
        let execd = try ExecdCollector.make(["command": .strings(["python3", fixtures + "/execd_counter.py"]),
                                             "signal": .string("STDIN"), "environment": .strings(["SOURCE=printer"])])
        let received = Received()
        try execd.start(received.context)
        defer { execd.stop() }
        try await waitFor("the plugin to start") { received.log.all.contains { $0.1.contains("counter plugin started") } }
        #expect(received.log.all.contains { $0.0 == .info && $0.1.contains("counter plugin started for printer") })
        for _ in 1...3 { execd.tick() }
        try await waitFor("three points") { received.count == 3 }
        let points = received.points.withLock { $0 }
        #expect(points.map { $0.fields.first?.value } == [.int(1), .int(2), .int(3)])
        #expect(points.allSatisfy { $0.tags["source"] == "printer" })
        #expect(received.log.all.contains { $0.0 == .debug && $0.1.contains("wrote line 3") })
    }

    @Test("a crash is logged with its status and last stderr, and the plugin is restarted after restart_delay")
    func restart() async throws {
        let execd = try ExecdCollector.make(["command": .strings(["python3", fixtures + "/execd_counter.py", "--crash-after", "1"]),
                                             "signal": .string("STDIN"), "restart_delay": .string("100ms")])
        let received = Received()
        try execd.start(received.context)
        defer { execd.stop() }
        try await waitFor("the plugin to start") { execd.isRunning && received.log.all.contains { $0.1.contains("started for") } }
        execd.tick()
        try await waitFor("the crash") { received.log.all.contains { $0.1.contains("exited with status 3") } }
        #expect(received.log.all.contains { $0.0 == .error && $0.1.contains("giving up on purpose") && $0.1.contains("restarting in 100ms") })
        try await waitFor("the restart") { received.log.all.filter { $0.1.contains("started for") }.count == 2 && execd.isRunning }
        execd.tick()
        try await waitFor("a point from the restarted plugin") { received.count == 2 }
    }

    @Test("a malformed line is logged with its column and skipped; the good lines around it still arrive")
    func garbage() async throws {
        let execd = try ExecdCollector.make(["command": .strings(["python3", fixtures + "/execd_counter.py", "--garbage"]),
                                             "signal": .string("STDIN")])
        let received = Received()
        try execd.start(received.context)
        defer { execd.stop() }
        try await waitFor("the plugin to start") { execd.isRunning }
        execd.tick()
        execd.tick()
        try await waitFor("two points") { received.count == 2 }
        #expect(received.log.all.contains { $0.0 == .error && $0.1.contains("cannot read its output: column") && $0.1.contains("this is not line protocol") })
    }

    @Test("stop closes the plugin's stdin, which it takes as the end (it ignores SIGTERM)")
    func stop() async throws {
        let execd = try ExecdCollector.make(["command": .strings(["python3", fixtures + "/execd_counter.py", "--ignore-term"]),
                                             "signal": .string("STDIN")])
        let received = Received()
        try execd.start(received.context)
        try await waitFor("the plugin to start") { received.log.all.contains { $0.1.contains("started for") } }
        execd.stop()
        try await waitFor("the plugin to exit on stdin's end") { received.log.all.contains { $0.1.contains("stdin closed, exiting") } }
        #expect(!execd.isRunning)
    }

    @Test("data_format = prometheus: each line read on its own, as Telegraf's execd hands them over (so samples are untyped)")
    func prometheus() async throws {
        let script = #"while read line; do printf '# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total{queue="mail"} 3\nbad line here\n'; done"#
        let execd = try ExecdCollector.make(["command": .strings(["sh", "-c", script]), "signal": .string("STDIN"),
                                             "data_format": .string("prometheus")])
        let received = Received()
        try execd.start(received.context)
        defer { execd.stop() }
        try await waitFor("the program to start") { execd.isRunning }
        execd.tick()
        try await waitFor("a point") { received.count == 1 }
        let point = try #require(received.points.withLock { $0.first })
        #expect(point.name == "jobs_total")
        #expect(point.tags.dictionary == ["queue": "mail"])
        #expect(point.fields.map(\.key) == ["value"], "the # TYPE line was read on its own and typed nothing")
        #expect(point.fields.first?.value == .double(3))
        try await waitFor("the bad line's error") { received.log.all.contains { $0.0 == .error && $0.1.contains("not a Prometheus sample") } }
        #expect(throws: CollectorError("execd", "data_format \"xml\" is not supported (supported: influx, prometheus, json)")) {
            try ExecdCollector.make(["command": .strings(["true"]), "data_format": .string("xml")])
        }
    }

    @Test("a program that does not exist is reported and retried, not fatal")
    func missingProgram() async throws {
        let execd = try ExecdCollector.make(["command": .strings(["/nonexistent/telegraf-plugin"]), "restart_delay": .string("50ms")])
        let received = Received()
        try execd.start(received.context)
        defer { execd.stop() }
        try await waitFor("two attempts") { received.log.all.filter { $0.1.contains("/nonexistent/telegraf-plugin") }.count >= 2 }
    }
}

@Suite("Prometheus text exposition format, read as Telegraf's prometheus parser does")
struct PrometheusTextTests {
    @Test("counters, gauges, untyped, summaries and histograms; timestamps in milliseconds; NaN left out")
    func families() {
        let text = """
            # HELP http_requests_total Requests.
            # TYPE http_requests_total counter
            http_requests_total{method="post",code="200"} 1027 1395066363000
            # TYPE temperature gauge
            temperature{room="a \\"big\\" one"} 21.5
            plain 3
            # TYPE rpc_duration_seconds summary
            rpc_duration_seconds{quantile="0.5"} 0.05
            rpc_duration_seconds{quantile="0.99"} NaN
            rpc_duration_seconds_sum 17
            rpc_duration_seconds_count 100
            # TYPE latency histogram
            latency_bucket{le="0.1"} 5
            latency_bucket{le="+Inf"} 9
            latency_sum 1.5
            latency_count 9
            """
        let (points, errors) = PrometheusText.parse(text, time: 42)
        #expect(errors.isEmpty)
        let byName = Dictionary(grouping: points, by: \.name)
        #expect(byName["http_requests_total"]?.first?.fields.first?.key == "counter")
        #expect(byName["http_requests_total"]?.first?.time == 1_395_066_363_000_000_000)
        #expect(byName["http_requests_total"]?.first?.tags.dictionary == ["method": "post", "code": "200"])
        #expect(byName["temperature"]?.first?.tags["room"] == "a \"big\" one")
        #expect(byName["plain"]?.first?.fields.first?.key == "value")
        #expect(byName["rpc_duration_seconds"]?.first?.fields.map(\.key).sorted() == ["0.5", "count", "sum"])
        #expect(byName["latency"]?.first?.fields.map(\.key).sorted() == ["+Inf", "0.1", "count", "sum"])
        #expect(byName["latency"]?.first?.time == 42)
    }

    @Test("a line that is not a sample is reported with its number")
    func errors() {
        let (points, errors) = PrometheusText.parse("ok 1\n{broken 2\n", time: 0)
        #expect(points.count == 1)
        #expect(errors == ["line 2: not a Prometheus sample: {broken 2"])
    }
}

@Suite("line framing of a plugin's stdout")
struct LineDecoderTests {
    @Test("lines split across chunks, CRLF, a last line without newline; an over-long line is refused")
    func lines() throws {
        var decoder = LineDecoder(maxLineLength: 16)
        var lines: [String] = []
        for chunk in ["a val", "ue=1\nb value=2\r\n", "c value=3"] {
            Array(chunk.utf8).withUnsafeBytes { decoder.append($0) }
            while let line = try decoder.next() { lines.append(String(decoding: line, as: UTF8.self)) }
        }
        if let last = try decoder.end() { lines.append(String(decoding: last, as: UTF8.self)) }
        #expect(lines == ["a value=1", "b value=2", "c value=3"])
        Array(String(repeating: "x", count: 20).utf8).withUnsafeBytes { decoder.append($0) }
        #expect(throws: FrameError.frameTooLarge(size: 20, limit: 16)) { _ = try decoder.next() }
    }
}
