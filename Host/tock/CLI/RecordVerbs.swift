import ArgumentParser
import Foundation
import TockModel

/// `tock record stream|batch|query`: Kapacitor's record verbs (cmd/kapacitor/main.go `doRecord`). Prints the
/// recording's ID; without `-no-wait`, once the recording has finished (an error when it failed).
struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record a task's live stream, a batch task's queries or a query's result.",
        discussion: """
            tock record stream -task cpu_alert -duration 1m
            tock record batch -task cpu_idle (-start 2015-09-01T00:00:00Z [-stop …] | -past 10h)
            tock record query -query 'select value from "telegraf"."autogen"."cpu" where time > now() - 1h' -type stream
            """)

    @Argument(help: "What to record: stream, batch or query.")
    var kind: String

    @Option(name: [.customLong("task", withSingleDash: true), .customLong("task")], help: "The task ID (stream, batch).")
    var task: String?

    @Option(name: [.customLong("duration", withSingleDash: true), .customLong("duration")],
            help: "How long to record the data stream (stream), such as 1m.")
    var duration: String?

    @Option(name: [.customLong("start", withSingleDash: true), .customLong("start")],
            help: "The start time for the set of queries (batch), RFC 3339.")
    var start: String?

    @Option(name: [.customLong("stop", withSingleDash: true), .customLong("stop")],
            help: "The stop time for the set of queries (batch, default now).")
    var stop: String?

    @Option(name: [.customLong("past", withSingleDash: true), .customLong("past")], help: "Set start time via 'now - past' (batch).")
    var past: String?

    @Option(name: [.customLong("query", withSingleDash: true), .customLong("query")], help: "The query to record (query).")
    var query: String?

    @Option(name: [.customLong("type", withSingleDash: true), .customLong("type")],
            help: "The type of the recording to save: stream or batch (query).")
    var type: String?

    @Option(name: [.customLong("cluster", withSingleDash: true), .customLong("cluster")],
            help: "Optional named InfluxDB cluster from configuration (batch, query).")
    var cluster: String?

    @Option(name: [.customLong("recording-id", withSingleDash: true), .customLong("recording-id")],
            help: "The ID to give to this recording. If not set a random ID is chosen.")
    var recordingID: String?

    @Flag(name: [.customLong("no-wait", withSingleDash: true), .customLong("no-wait")],
          help: "Do not wait for the recording to finish.")
    var noWait = false

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            var body: [String: Any] = [:]
            if let recordingID { body["id"] = recordingID }
            let path: String
            switch kind {
            case "stream":
                guard let task, let duration else { throw ClientError("both task and duration are required", exitCode: 2) }
                guard let d = GoDuration.parse(duration), d >= 0 else {
                    throw ClientError("invalid duration \"\(duration)\": use a duration such as 30s or 1m", exitCode: 2)
                }
                body["task"] = task
                body["stop"] = RFC3339Nano.format(Timestamp(Date().timeIntervalSince1970 * 1e9) &+ d)
                path = "/recordings/stream"
            case "batch":
                guard let task else { throw ClientError("task is required", exitCode: 2) }
                let (from, to) = try queryRange(start: start, stop: stop, past: past)
                body["task"] = task
                body["start"] = from
                body["stop"] = to
                if let cluster { body["cluster"] = cluster }
                path = "/recordings/batch"
            case "query":
                guard let query, let type else { throw ClientError("both query and type are required", exitCode: 2) }
                guard type == "stream" || type == "batch" else {
                    throw ClientError("invalid type \"\(type)\": use stream or batch", exitCode: 2)
                }
                body["query"] = query
                body["type"] = type
                if let cluster { body["cluster"] = cluster }
                path = "/recordings/query"
            default:
                throw ClientError("Unknown record type \"\(kind)\", expected 'stream', 'batch' or 'query'", exitCode: 2)
            }
            var recording = try await client.request("POST", path, json: body).object()
            let id = recording["id"] as? String ?? ""
            if noWait {
                print(id)
                return
            }
            while recording["status"] as? String == "running" {
                try? await Task.sleep(for: .milliseconds(500))
                recording = try await client.request("GET", "/recordings/\(KapacitorClient.escape(id))").object()
            }
            print(id)
            if recording["status"] as? String == "failed" {
                let error = recording["error"] as? String ?? ""
                throw ClientError(error.isEmpty ? "recording failed: unknown reason" : error)
            }
        }
    }
}

/// `-start`/`-stop`/`-past` as Kapacitor's CLI reads them: RFC 3339 start (or now - past) and stop (default now).
func queryRange(start: String?, stop: String?, past: String?) throws(ClientError) -> (String, String) {
    if start == nil && past == nil { throw ClientError("must set one of start or past flags.", exitCode: 2) }
    if start != nil && past != nil { throw ClientError("cannot set both start and past flags.", exitCode: 2) }
    var to = Timestamp(Date().timeIntervalSince1970 * 1e9)
    if let stop {
        guard let t = RFC3339Nano.parse(stop) else { throw ClientError("invalid stop time \"\(stop)\": use RFC 3339", exitCode: 2) }
        to = t
    }
    var from: Timestamp
    if let start {
        guard let t = RFC3339Nano.parse(start) else { throw ClientError("invalid start time \"\(start)\": use RFC 3339", exitCode: 2) }
        from = t
    } else {
        guard let d = GoDuration.parse(past!), d >= 0 else {
            throw ClientError("invalid past duration \"\(past!)\": use a duration such as 10h", exitCode: 2)
        }
        from = to &- d
    }
    return (RFC3339Nano.format(from), RFC3339Nano.format(to))
}

/// The options every replay verb shares.
struct ReplayOptions: ParsableArguments {
    @Option(name: [.customLong("task", withSingleDash: true), .customLong("task")], help: "The task ID.")
    var task: String?

    @Flag(name: [.customLong("real-clock", withSingleDash: true), .customLong("real-clock")],
          help: "Replay the data in real time (by the gaps between its times); otherwise as fast as possible.")
    var realClock = false

    @Flag(name: [.customLong("rec-time", withSingleDash: true), .customLong("rec-time")],
          help: "Use the times saved in the recording instead of present times.")
    var recTime = false

    @Option(name: [.customLong("replay-id", withSingleDash: true), .customLong("replay-id")],
            help: "The ID to give to this replay. If not set a random ID is chosen.")
    var replayID: String?

    @Flag(name: [.customLong("no-wait", withSingleDash: true), .customLong("no-wait")],
          help: "Do not wait for the replay to finish.")
    var noWait = false

    var body: [String: Any] {
        var body: [String: Any] = ["recording-time": recTime, "clock": realClock ? "real" : "fast"]
        if let task { body["task"] = task }
        if let replayID { body["id"] = replayID }
        return body
    }

    /// Posts the replay, then (without `-no-wait`) waits for it, showing its progress on stderr when it takes a
    /// while; prints its ID as Kapacitor does, and its error when it failed.
    func start(_ path: String, _ body: [String: Any], client: KapacitorClient) async throws(ClientError) {
        var replay = try await client.request("POST", path, json: body).object()
        let id = replay["id"] as? String ?? ""
        if noWait {
            print(id)
            return
        }
        var progress = ProgressLine()
        while replay["status"] as? String == "running" {
            try? await Task.sleep(for: .milliseconds(500))
            replay = try await client.request("GET", "/replays/\(KapacitorClient.escape(id))").object()
            progress.show(replay)
        }
        progress.end()
        print(id)
        if replay["status"] as? String == "failed" {
            let error = replay["error"] as? String ?? ""
            throw ClientError(error.isEmpty ? "replay failed: unknown reason" : error)
        }
    }
}

/// A replay's progress on stderr, from its `progress`, `points` and `total-points`: shown once it has run for
/// two seconds, then every two seconds (in place on a terminal).
struct ProgressLine {
    private let started = Date()
    private var last = Date.distantPast
    private var shown = false
    private let terminal = isatty(2) == 1

    mutating func show(_ replay: [String: Any]) {
        let now = Date()
        guard now.timeIntervalSince(started) >= 2, now.timeIntervalSince(last) >= 2 else { return }
        last = now
        let fraction = (replay["progress"] as? NSNumber)?.doubleValue ?? 0
        let fed = (replay["points"] as? NSNumber)?.intValue ?? 0
        let total = (replay["total-points"] as? NSNumber)?.intValue ?? 0
        let elapsed = now.timeIntervalSince(started)
        let rate = Double(fed) / max(elapsed, 0.001)
        var text = String(format: "replayed %d of %d points (%.1f%%), %.0f points/s", fed, total, fraction * 100, rate)
        if rate > 0 && total > fed { text += ", ETA " + Self.duration(Double(total - fed) / rate) }
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + text : text + "\n").utf8))
        shown = true
    }

    func end() {
        if shown && terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}

/// `tock replay -task T -recording R`: replays a recording against a copy of the task
/// (cmd/kapacitor/main.go `doReplay`).
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a recording to a task. Prints the replay ID.",
        discussion: """
            The times of the data points will either be relative to now or the exact times in the recording if
            the '-rec-time' flag is set. In either case the relative times between the data points remain the same.
            """)

    @Option(name: [.customLong("recording", withSingleDash: true), .customLong("recording")], help: "The recording ID.")
    var recording: String?

    @OptionGroup var options: ReplayOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            guard let recording else { throw ClientError("must pass recording ID", exitCode: 2) }
            guard options.task != nil else { throw ClientError("must pass task ID", exitCode: 2) }
            var body = options.body
            body["recording"] = recording
            try await options.start("/replays", body, client: client)
        }
    }
}

/// `tock replay-live batch|query`: records and replays in one step, without saving a recording.
struct ReplayLive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay-live",
        abstract: "Replay data to a task directly without saving a recording.",
        discussion: """
            tock replay-live batch -task cpu_idle (-start 2015-09-01T00:00:00Z [-stop …] | -past 10h)
            tock replay-live query -task cpu_alert -query 'select value from "telegraf"."autogen"."cpu" where time > now() - 1h'
            """)

    @Argument(help: "batch or query.")
    var kind: String

    @Option(name: [.customLong("start", withSingleDash: true), .customLong("start")], help: "The start time for the set of queries.")
    var start: String?

    @Option(name: [.customLong("stop", withSingleDash: true), .customLong("stop")], help: "The stop time (default now).")
    var stop: String?

    @Option(name: [.customLong("past", withSingleDash: true), .customLong("past")], help: "Set start time via 'now - past'.")
    var past: String?

    @Option(name: [.customLong("query", withSingleDash: true), .customLong("query")], help: "The query to replay.")
    var query: String?

    @Option(name: [.customLong("cluster", withSingleDash: true), .customLong("cluster")],
            help: "Optional named InfluxDB cluster from configuration.")
    var cluster: String?

    @OptionGroup var options: ReplayOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            var body = options.body
            if let cluster { body["cluster"] = cluster }
            switch kind {
            case "batch":
                guard options.task != nil else { throw ClientError("task is required", exitCode: 2) }
                let (from, to) = try queryRange(start: start, stop: stop, past: past)
                body["start"] = from
                body["stop"] = to
                try await options.start("/replays/batch", body, client: client)
            case "query":
                guard let query, options.task != nil else { throw ClientError("both query and task are required", exitCode: 2) }
                body["query"] = query
                try await options.start("/replays/query", body, client: client)
            default:
                throw ClientError("Unknown replay-live type \"\(kind)\", expected 'batch' or 'query'", exitCode: 2)
            }
        }
    }
}

extension Table {
    /// `kapacitor list recordings`: `%-40s%-8v%-10s%-10s%-23s`, sizes as go-humanize's `Bytes`.
    static func recordings(_ rows: [[String: Any]]) -> String {
        func line(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String) -> String {
            pad(a, 40) + pad(b, 8) + pad(c, 10) + pad(d, 10) + pad(e, 23) + "\n"
        }
        var out = line("ID", "Type", "Status", "Size", "Date")
        for r in rows {
            let size = (r["size"] as? NSNumber)?.uint64Value ?? 0
            out += line(text(r["id"]), text(r["type"]), text(r["status"]), humanBytes(size), rfc822(r["date"]))
        }
        return out
    }

    /// `kapacitor list replays`: `%-40v%-20v%-40v%-9v%-8v%-23v`.
    static func replays(_ rows: [[String: Any]]) -> String {
        func line(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String, _ f: String) -> String {
            pad(a, 40) + pad(b, 20) + pad(c, 40) + pad(d, 9) + pad(e, 8) + pad(f, 23) + "\n"
        }
        var out = line("ID", "Task", "Recording", "Status", "Clock", "Date")
        for r in rows {
            out += line(text(r["id"]), text(r["task"]), text(r["recording"]), text(r["status"]), text(r["clock"]), rfc822(r["date"]))
        }
        return out
    }

    /// go-humanize's `Bytes`: SI units, one decimal below 10 (`23 B`, `1.6 MB`, `83 MB`).
    static func humanBytes(_ s: UInt64) -> String {
        if s < 10 { return "\(s) B" }
        let sizes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        let e = min(sizes.count - 1, Int((log(Double(s)) / log(1000)).rounded(.down)))
        let value = (Double(s) / pow(1000, Double(e)) * 10 + 0.5).rounded(.down) / 10
        return String(format: value < 10 ? "%.1f %@" : "%.0f %@", value, sizes[e])
    }
}
