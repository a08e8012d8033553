import Alerting
import ArgumentParser
import Engine
import Foundation
import Logging
import PluginHost
import TockModel

/// `tock bench alerts`: alerts/s and arrival→delivery latency of a stream task whose every point raises an alert,
/// delivered through `post` and through the sample Python webhook notifier to a loopback receiver in this process,
/// against a plain Python client posting the same bodies to the same receiver.
struct BenchAlerts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Alerts/s and point→delivery latency (p50, p99) through post, a Python notifier plugin, and baselines.",
        discussion: """
            The task: stream|from().measurement('bench')|alert().id('bench').message('{{ index .Fields "seq" }}')\
            .crit(lambda: TRUE) and one handler, so that every point is a critical alert, each delivered (Kapacitor \
            sends every non-OK event unless .stateChangesOnly()). Cases:
              log       .log('/dev/null'): the engine and the delivery queue, no network (throughput only)
              post      .post(URL) to a loopback HTTP receiver in this process (keep-alive, empty 200)
              notifier  .notify('webhook').option('url', URL): Plugins/notifiers/webhook/webhook.py, which POSTs \
            each alert with urllib (one connection per request) to the same receiver
              python    Benchmarks/alerts_client.py: a plain Python urllib client posting the bodies post sent, one \
            at a time, to the same receiver (the notifier's ceiling without Tock)
            Throughput: --points written at once (chunks of 500); alerts/s = points / (last delivery − first write). \
            Latency: --latency-points written one at a time at --rate per second; each point's arrival (its write, \
            or the client's request start) against the receiver's clock at its delivery (CLOCK_REALTIME in both \
            processes). CPU: this process (Tock and the receiver) and its children (Python). Medians of --runs.
            """)

    @Option(help: "Alerts per throughput run.") var points = 20_000
    @Option(help: "Alerts per latency run.") var latencyPoints = 1_000
    @Option(help: "Points per second in a latency run.") var rate = 200.0
    @Option(help: "Runs per case; medians are reported.") var runs = 3
    @Option(help: "Only the cases whose name contains this text (log, post, notifier, python).") var only: String?
    @Option(help: "The webhook notifier plugin.") var webhook = "Plugins/notifiers/webhook/webhook.py"
    @Option(help: "The baseline client.") var client = "Benchmarks/alerts_client.py"
    @Option(help: "PYTHONPATH of the notifier (the tock_plugin package).") var pythonPath = "Protocol/python"
    @Option(help: "Seconds to wait for a run's last delivery before failing.") var limit = 600.0

    func validate() throws {
        guard points > 0, latencyPoints > 0, runs > 0, rate > 0 else {
            throw ValidationError("--points, --latency-points, --runs and --rate must be positive")
        }
        for file in [webhook, client] where !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("\(file) does not exist: run from the repository's root or give --webhook/--client")
        }
    }

    func run() throws {
        // Only what goes wrong (a handler's failures, a notifier's crash) is logged, on stderr.
        _ = VerbLogging.logger(label: "tock.bench", level: .warning)
        let receiver = try BenchAlertsReceiver.start(capacity: max(points, latencyPoints))
        defer { receiver.stop() }
        let template = try bodyTemplate(receiver)
        print("tock bench alerts: \(points) alerts per throughput run, \(latencyPoints) per latency run at \(Int(rate))/s, "
              + "median of \(runs) runs; load \(Self.loadAverage())")
        print("case".padding(toLength: 10, withPad: " ", startingAt: 0)
              + ["alerts/s", "CPU tock+rcv", "CPU python", "µs CPU/alert", "p50 ms", "p99 ms"].map(Self.cell).joined())
        for name in ["log", "post", "notifier", "python"] {
            if let only, !name.contains(only) { continue }
            var throughput: [Sample] = [], latency: [Sample] = []
            for _ in 0..<runs {
                throughput.append(try measure(name, count: points, rate: nil, receiver: receiver, template: template))
                if name != "log" {
                    latency.append(try measure(name, count: latencyPoints, rate: rate, receiver: receiver, template: template))
                }
            }
            let t = Sample.median(throughput, by: \.alertsPerSecond)
            let cpu = t.ownCPU + t.childCPU
            let p50 = latency.isEmpty ? "-" : String(format: "%.2f", Self.median(latency.map(\.p50)) / 1e6)
            let p99 = latency.isEmpty ? "-" : String(format: "%.2f", Self.median(latency.map(\.p99)) / 1e6)
            print(name.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + [String(format: "%.0f", t.alertsPerSecond), String(format: "%.2f s", t.ownCPU),
                     String(format: "%.2f s", t.childCPU), String(format: "%.1f", cpu / Double(points) * 1e6), p50, p99]
                    .map(Self.cell).joined())
        }
    }

    /// One run of a case.
    struct Sample {
        var alertsPerSecond: Double
        var ownCPU: Double
        var childCPU: Double
        /// Arrival→delivery, nanoseconds.
        var p50: Double
        var p99: Double

        static func median(_ all: [Sample], by key: KeyPath<Sample, Double>) -> Sample {
            all.sorted { $0[keyPath: key] < $1[keyPath: key] }[all.count / 2]
        }
    }

    func measure(_ name: String, count: Int, rate: Double?, receiver: BenchAlertsReceiver, template: String) throws -> Sample {
        receiver.reset()
        if name == "python" { return try baseline(count: count, rate: rate, receiver: receiver, template: template) }
        let url = receiver.url
        let handler = switch name {
        case "log": ".log('/dev/null')"
        case "post": ".post('\(url)')"
        default: ".notify('webhook').option('url', '\(url)')"
        }
        var notifiers: [String: NotifierPlugin] = [:]
        if name == "notifier" {
            notifiers["webhook"] = NotifierPlugin(configuration: NotifierConfiguration(
                name: "webhook", endpoint: .process(program: "/usr/bin/env", arguments: ["python3", "-u", webhook],
                                                    environment: ["PYTHONPATH": pythonPath])),
                                                  logger: Logger(label: "tock.bench"))
        }
        let alerting = try AlertingService(delivery: DeliverySettings(queueSize: count + 1), notifiers: notifiers)
        defer { alerting.shutdown() }
        var options = TaskRunner.Options(taskID: "bench")
        options.alertService = alerting
        let runner = try TaskRunner(script: Self.script(handler), options: options,
                                    handlers: .init(logger: Logger(label: "tock.bench").with("task", "bench")))
        try runner.start()
        let cpu = BenchTimer.cpuSeconds(), children = Self.childrenCPUSeconds()
        let first = BenchAlertsReceiver.unixNanoseconds()
        let arrivals = write(count: count, rate: rate, to: runner)
        let last: Int64
        if name == "log" {
            let deadline = Date().addingTimeInterval(limit)
            while alerting.deliveryStats.map(\.stats.sent).reduce(0, +) < count {
                guard Date() < deadline else { throw ValidationError("log: \(count) alerts not written within \(limit) s") }
                Thread.sleep(forTimeInterval: 0.001)
            }
            last = BenchAlertsReceiver.unixNanoseconds()
        } else {
            guard receiver.wait(for: count, limit: limit) else {
                let stats = alerting.deliveryStats.map { "\($0.handler): \($0.stats)" }.joined(separator: "; ")
                throw ValidationError("\(name): \(receiver.received.alerts) of \(count) alerts arrived within \(limit) s (\(stats))")
            }
            last = receiver.deliveries.prefix(count).max() ?? first
        }
        let own = BenchTimer.cpuSeconds() - cpu, child = Self.childrenCPUSeconds() - children
        try runner.stop()
        return Self.sample(count: count, first: first, last: last, arrivals: arrivals,
                           deliveries: name == "log" ? nil : receiver.deliveries, ownCPU: own, childCPU: child)
    }

    /// Writes `count` points, each with its sequence number; at once in chunks (`rate` nil) or one by one at `rate`
    /// per second. The Unix ns at which each was written.
    func write(count: Int, rate: Double?, to runner: TaskRunner) -> [Int64] {
        var arrivals = [Int64](repeating: 0, count: count)
        let base: Int64 = 1_700_000_000_000_000_000
        let point = { (i: Int) in
            Point(name: "bench", fields: ["seq": .int(Int64(i))], time: base + Int64(i) * 1_000_000,
                  database: "bench", retentionPolicy: "autogen")
        }
        guard let rate else {
            var i = 0
            while i < count {
                let chunk = (i..<min(i + 500, count)).map(point)
                let now = BenchAlertsReceiver.unixNanoseconds()
                for j in i..<i + chunk.count { arrivals[j] = now }
                runner.write(chunk)
                i += chunk.count
            }
            return arrivals
        }
        let start = Date()
        for i in 0..<count {
            let wait = start.addingTimeInterval(Double(i) / rate).timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            arrivals[i] = BenchAlertsReceiver.unixNanoseconds()
            runner.write([point(i)])
        }
        return arrivals
    }

    /// The baseline: the Python client posting `template`'s bodies to the receiver.
    func baseline(count: Int, rate: Double?, receiver: BenchAlertsReceiver, template: String) throws -> Sample {
        let file = NSTemporaryDirectory() + "tock-bench-alerts-\(getpid()).json"
        try template.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", client, receiver.url, file, String(count), String(rate ?? 0)]
        let out = Pipe()
        process.standardOutput = out
        let cpu = BenchTimer.cpuSeconds(), children = Self.childrenCPUSeconds()
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let sent = json["sent"] as? [NSNumber], sent.count == count else {
            throw ValidationError("\(client) exited with status \(process.terminationStatus): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        guard receiver.wait(for: count, limit: 10) else {
            throw ValidationError("python: \(receiver.received.alerts) of \(count) requests arrived")
        }
        let arrivals = sent.map(\.int64Value), deliveries = receiver.deliveries
        return Self.sample(count: count, first: arrivals[0], last: deliveries.prefix(count).max()!, arrivals: arrivals,
                           deliveries: deliveries, ownCPU: BenchTimer.cpuSeconds() - cpu,
                           childCPU: Self.childrenCPUSeconds() - children)
    }

    static func sample(count: Int, first: Int64, last: Int64, arrivals: [Int64], deliveries: [Int64]?,
                       ownCPU: Double, childCPU: Double) -> Sample {
        var latencies: [Double] = []
        if let deliveries {
            latencies = (0..<count).map { Double(deliveries[$0] - arrivals[$0]) }.sorted()
        }
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        return Sample(alertsPerSecond: Double(count) / (Double(max(1, last - first)) / 1e9), ownCPU: ownCPU,
                      childCPU: childCPU, p50: percentile(0.5), p99: percentile(0.99))
    }

    static func script(_ handler: String) -> String {
        """
        stream
          |from().measurement('bench')
          |alert()
            .id('bench')
            .message('{{ index .Fields "seq" }}')
            .crit(lambda: TRUE)
            \(handler)
        """
    }

    /// The body `post` sends for one alert, its sequence number replaced by `%SEQ%`: what the baseline client posts.
    func bodyTemplate(_ receiver: BenchAlertsReceiver) throws -> String {
        _ = try measure("post", count: 1, rate: nil, receiver: receiver, template: "")
        guard let body = receiver.sampleBody else { throw ValidationError("the post handler delivered no body") }
        let text = String(decoding: body, as: UTF8.self)
        guard let range = text.range(of: #""message":"0""#) else {
            throw ValidationError("the alert body has no \"message\":\"0\": \(text)")
        }
        return text.replacingCharacters(in: range, with: #""message":"%SEQ%""#)
    }

    /// CPU seconds of this process's children: those reaped (rusage) and those still running (/proc).
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        var total = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let me = getpid(), ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "(comm)": state ppid … utime (14th field) stime (15th).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, Int32(fields[1]) == me else { continue }
            total += ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks
        }
        return total
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func cell(_ text: String) -> String { String(repeating: " ", count: max(1, 14 - text.count)) + text }
}
