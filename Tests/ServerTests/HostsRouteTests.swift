import Alerting
import Foundation
import Hummingbird
@testable import Server
import Storage
import Testing
import TockModel

/// `/kapacitor/v1/hosts` and `/kapacitor/v1/locations`: the host inventory over a live daemon.
@Suite("Host inventory API")
struct HostsRouteTests {
    static let path = "/kapacitor/v1/hosts"

    /// Serves a daemon over `f`'s directory with its own API object (so the test can reach the inventory).
    static func serve(_ f: Fixture, alerting: Bool = false,
                      _ body: @Sendable (Client, TockAPI, TaskMaster, AlertingService?) async throws -> Void) async throws {
        let master = try f.master()
        var service: AlertingService?
        if alerting {
            service = try AlertingService()
            master.alertService = service
        }
        let api = TockAPI(master: master, configuration: f.configuration)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try Daemon.application(api: api, host: "127.0.0.1", port: 0, onListening: { continuation.yield($0) })
        let alertingService = service
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            try await body(Client(port: port), api, master, alertingService)
            group.cancelAll()
        }
        master.stopAll()
    }

    static func names(_ answer: Answer) -> [String] {
        answer.json["hosts"]?.arrayValue?.compactMap { $0["host"]?.stringValue } ?? []
    }

    @Test("points with a host tag register it: first and last seen, points, database, reported location, agent version, facts")
    func registration() async throws {
        let f = Fixture()
        defer { f.remove() }
        try await Self.serve(f) { client, _, _, _ in
            let write = try await client.execute(uri: "/write?db=telegraf", method: "POST", body: """
                cpu,host=web1,location=lab usage_user=1.5
                tock_agent,host=web1 version="0.3.1",uptime=42i,buffered=0i,dropped=2i
                host_facts,host=web1 os="Debian GNU/Linux 12",n_cpus=4i,kernel="6.1.0"
                mem used=1i
                """)
            #expect(write.status == .noContent)
            let first = try await client.execute(uri: Self.path + "/web1")
            #expect(first.status == .ok, "\(first.text)")
            let h = first.json
            #expect(h["link"]?["href"]?.stringValue == Self.path + "/web1")
            #expect(h["points"] == .int(3))
            #expect(h["last-database"] == .string("telegraf"))
            #expect(h["reported-location"] == .string("lab"))
            #expect(h["location"] == .string(""))
            #expect(h["agent-version"] == .string("0.3.1"))
            #expect(h["agent"]?["dropped"] == .int(2))
            #expect(h["facts"]?["os"] == .string("Debian GNU/Linux 12"))
            #expect(h["facts"]?["n_cpus"] == .int(4))
            #expect(h["status"] == .string("reporting"))
            #expect(h["reported"] == .bool(true))
            let firstSeen = try #require(h["first-seen"]?.stringValue)
            #expect(RFC3339Nano.parse(firstSeen) != nil)
            try await Task.sleep(for: .milliseconds(20))
            _ = try await client.execute(uri: "/write?db=other", method: "POST", body: "cpu,host=web1 usage_user=2\n")
            let second = try await client.execute(uri: Self.path + "/web1").json
            #expect(second["first-seen"]?.stringValue == firstSeen)
            let lastSeen = try #require(second["last-seen"]?.stringValue.flatMap(RFC3339Nano.parse))
            #expect(lastSeen > RFC3339Nano.parse(firstSeen)!)
            #expect(second["points"] == .int(4))
            #expect(second["last-database"] == .string("other"))
            // A point without a host tag registers nothing.
            #expect(Self.names(try await client.execute(uri: Self.path)) == ["web1"])
        }
    }

    @Test("PATCH sets the location and labels, a null removes; bad input is 400, an unknown host 404")
    func patch() async throws {
        let f = Fixture()
        defer { f.remove() }
        try await Self.serve(f) { client, _, _, _ in
            _ = try await client.execute(uri: "/write?db=telegraf", method: "POST", body: "cpu,host=web1 v=1\n")
            let set = try await client.execute(uri: Self.path + "/web1", method: "PATCH",
                                               body: #"{"location":"725","labels":{"rack":"b","owner":"ops"}}"#)
            #expect(set.status == .ok, "\(set.text)")
            #expect(set.json["location"] == .string("725"))
            #expect(set.json["labels"] == .object([("owner", .string("ops")), ("rack", .string("b"))]))
            let removed = try await client.execute(uri: Self.path + "/web1", method: "PATCH", body: #"{"labels":{"owner":null}}"#)
            #expect(removed.json["labels"] == .object([("rack", .string("b"))]))
            #expect(removed.json["location"] == .string("725"))
            let bad = try await client.execute(uri: Self.path + "/web1", method: "PATCH", body: #"{"labels":{"rack":5}}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.json["error"]?.stringValue?.contains("label rack must be a string") == true)
            let unknown = try await client.execute(uri: Self.path + "/web1", method: "PATCH", body: #"{"site":"x"}"#)
            #expect(unknown.status == .badRequest)
            #expect(unknown.json["error"]?.stringValue?.contains("unknown host setting \"site\"") == true)
            let missing = try await client.execute(uri: Self.path + "/nope", method: "PATCH", body: #"{"location":"1"}"#)
            #expect(missing.status == .notFound)
            let unassign = try await client.execute(uri: Self.path + "/web1", method: "PATCH", body: #"{"location":null}"#)
            #expect(unassign.json["location"] == .string(""))
            #expect(unassign.json["assigned"] == .bool(false))
        }
    }

    @Test("unassigned lists reporting hosts without a location; silent lists quiet hosts and those that never reported")
    func unassignedAndSilent() async throws {
        let f = Fixture()
        defer { f.remove() }
        try await Self.serve(f) { client, _, _, _ in
            _ = try await client.execute(uri: "/write?db=telegraf", method: "POST", body: "cpu,host=a v=1\ncpu,host=b v=1\n")
            _ = try await client.execute(uri: Self.path + "/b", method: "PATCH", body: #"{"location":"725"}"#)
            let created = try await client.execute(uri: Self.path, method: "POST", body: #"{"host":"ghost","location":"725"}"#)
            #expect(created.status == .ok, "\(created.text)")
            #expect(created.json["status"] == .string("never-reported"))
            #expect(created.json["first-seen"] == .null)
            #expect(try await client.execute(uri: Self.path, method: "POST", body: #"{"host":"ghost"}"#).status == .conflict)
            #expect(Self.names(try await client.execute(uri: Self.path + "?unassigned=true")) == ["a"])
            #expect(Self.names(try await client.execute(uri: Self.path + "?location=725")) == ["b", "ghost"])
            #expect(Self.names(try await client.execute(uri: Self.path + "?silent=1h")) == ["ghost"])
            try await Task.sleep(for: .milliseconds(300))
            #expect(Self.names(try await client.execute(uri: Self.path + "?silent=200ms")) == ["a", "b", "ghost"])
            #expect(Self.names(try await client.execute(uri: Self.path + "?silent=200ms&location=725")) == ["b", "ghost"])
            let bad = try await client.execute(uri: Self.path + "?silent=soon")
            #expect(bad.status == .badRequest)
            #expect(try await client.execute(uri: Self.path + "?colour=red").status == .badRequest)
            let locations = try await client.execute(uri: "/kapacitor/v1/locations").json
            #expect(locations["locations"]?.arrayValue?.first?["hosts"] == .array([.string("b"), .string("ghost")]))
        }
    }

    @Test("DELETE removes a host and its metrics; deleting it again is 404")
    func delete() async throws {
        let f = Fixture()
        defer { f.remove() }
        try await Self.serve(f) { client, api, _, _ in
            _ = try await client.execute(uri: "/write?db=telegraf", method: "POST", body: "cpu,host=a v=1\ncpu,host=b v=1\n")
            #expect(try await client.execute(uri: Self.path + "/a", method: "DELETE").status == .noContent)
            #expect(try await client.execute(uri: Self.path + "/a").status == .notFound)
            #expect(try await client.execute(uri: Self.path + "/a", method: "DELETE").status == .notFound)
            #expect(Self.names(try await client.execute(uri: Self.path)) == ["b"])
            #expect(api.hosts?.metrics.counts.series == 1)
            try api.hosts!.flush()
            #expect(try api.master.store.hosts().map(\.name) == ["b"])
        }
    }

    @Test("metrics per host and per location over a range: values and times per series")
    func metrics() async throws {
        let f = Fixture()
        defer { f.remove() }
        try await Self.serve(f) { client, _, _, _ in
            let t0 = nowNanoseconds() / GoDuration.second / 10 * 10 - 120
            let lines = (0..<4).flatMap { i in
                ["cpu,host=a,cpu=cpu0 usage_user=\(i),usage_system=\(10 + i) \(t0 + Int64(i) * 10)",
                 "cpu,host=b,cpu=cpu0 usage_user=\(100 + i) \(t0 + Int64(i) * 10)"]
            }.joined(separator: "\n")
            #expect(try await client.execute(uri: "/write?db=telegraf&precision=s", method: "POST", body: lines).status == .noContent)
            _ = try await client.execute(uri: Self.path + "/a", method: "PATCH", body: #"{"location":"725"}"#)
            _ = try await client.execute(uri: Self.path + "/b", method: "PATCH", body: #"{"location":"725"}"#)
            let start = rfc3339Nano((t0 + 10) * GoDuration.second), stop = rfc3339Nano((t0 + 20) * GoDuration.second)
            let one = try await client.execute(uri: Self.path + "/a/metrics?measurement=cpu&field=usage_user&start=\(start)&stop=\(stop)")
            #expect(one.status == .ok, "\(one.text)")
            let series = try #require(one.json["series"]?.arrayValue)
            #expect(series.count == 1)
            #expect(series[0]["name"] == .string("cpu"))
            #expect(series[0]["tags"] == .object([("cpu", .string("cpu0")), ("host", .string("a"))]))
            #expect(series[0]["columns"] == .array([.string("time"), .string("usage_user")]))
            #expect(series[0]["values"] == .array([.array([.string(start), .int(1)]), .array([.string(stop), .int(2)])]))
            let all = try await client.execute(uri: Self.path + "/a/metrics?measurement=cpu&past=1h").json
            #expect(all["series"]?.arrayValue?.count == 2)
            let location = try await client.execute(uri: "/kapacitor/v1/locations/725/metrics?measurement=cpu&field=usage_user&start=\(start)&stop=\(stop)")
            #expect(location.status == .ok, "\(location.text)")
            let hosts = try #require(location.json["hosts"]?.arrayValue)
            #expect(hosts.compactMap { $0["host"]?.stringValue } == ["a", "b"])
            #expect(hosts[1]["series"]?.arrayValue?.first?["values"] == .array([.array([.string(start), .int(101)]), .array([.string(stop), .int(102)])]))
            #expect(try await client.execute(uri: Self.path + "/a/metrics").status == .badRequest)
            #expect(try await client.execute(uri: Self.path + "/a/metrics?measurement=cpu&start=yesterday").status == .badRequest)
            #expect(try await client.execute(uri: Self.path + "/zz/metrics?measurement=cpu").status == .notFound)
        }
    }

    @Test("the tock_hosts points reach a stream task: an alert fires for a host that never reported")
    func deadmanAlert() async throws {
        let f = Fixture()
        defer { f.remove() }
        try await Self.serve(f, alerting: true) { client, api, master, alerting in
            let script = """
                stream
                    |from().database('_tock').measurement('tock_hosts').groupBy('host')
                    |alert().topic('hosts').crit(lambda: "silent_seconds" > 0.05).warn(lambda: "assigned" == FALSE)
                """
            var quoted = ""
            JSON.quote(script, into: &quoted)
            let create = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: """
                {"id":"host_deadman","type":"stream","dbrps":[{"db":"_tock","rp":"autogen"}],"status":"enabled","script":\(quoted)}
                """)
            #expect(create.status == .ok, "\(create.text)")
            _ = try await client.execute(uri: Self.path, method: "POST", body: #"{"host":"ghost","location":"725"}"#)
            try await Task.sleep(for: .milliseconds(100))
            HostService.report(api.hosts!, master: master, now: nowNanoseconds())
            let deadline = Date().addingTimeInterval(20)
            while (alerting!.topics.summary(of: "hosts")?.collected ?? 0) < 1 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let topic = try await client.execute(uri: "/kapacitor/v1/alerts/topics/hosts").json
            #expect(topic["level"] == .string("CRITICAL"))
            let events = try await client.execute(uri: "/kapacitor/v1/alerts/topics/hosts/events").json
            #expect(events["events"]?.arrayValue?.first?["id"]?.stringValue?.contains("host=ghost") == true)
        }
    }

    @Test("the location survives a restart; what points changed reaches the store at flush")
    func persistence() async throws {
        let f = Fixture()
        defer { f.remove() }
        try await Self.serve(f) { client, api, _, _ in
            _ = try await client.execute(uri: "/write?db=telegraf", method: "POST",
                                         body: "tock_agent,host=web1 version=\"1.0\"\n")
            _ = try await client.execute(uri: Self.path + "/web1", method: "PATCH", body: #"{"location":"725","labels":{"rack":"b"}}"#)
            _ = try await client.execute(uri: "/write?db=telegraf", method: "POST", body: "cpu,host=web1 v=1\n")
            #expect(try api.hosts!.flush() == 1)
        }
        try await Self.serve(f) { client, _, _, _ in
            let h = try await client.execute(uri: Self.path + "/web1").json
            #expect(h["location"] == .string("725"))
            #expect(h["labels"] == .object([("rack", .string("b"))]))
            #expect(h["agent-version"] == .string("1.0"))
            #expect(h["points"] == .int(2))
        }
    }

    @Test("debug/vars and /metrics report the hosts, the series kept and refused at max-series, and what the store holds")
    func statistics() async throws {
        var f = Fixture()
        f.configuration.hosts.maxSeries = 2
        defer { f.remove() }
        try await Self.serve(f) { client, api, _, _ in
            let now = nowNanoseconds() / GoDuration.second
            // Three numeric fields are three series; the third is refused.
            let lines = "cpu,host=a x=1,y=2,z=3 \(now)\ncpu,host=b x=4 \(now)\n"
            #expect(try await client.execute(uri: "/write?db=telegraf&precision=s", method: "POST", body: lines).status == .noContent)
            _ = try api.hosts!.flush()
            let vars = try await client.execute(uri: "/kapacitor/v1/debug/vars").json
            let hosts = try #require(vars["kapacitor"]?["hosts"]?["values"])
            #expect(hosts["hosts"] == .int(2))
            #expect(hosts["recent_series"] == .int(2))
            #expect(hosts["recent_values"] == .int(2))
            #expect(hosts["refused_series"] == .int(2))
            #expect(hosts["stored_series"] == .int(2))
            #expect(hosts["stored_values"] == .int(2))
            let metrics = try await client.execute(uri: "/metrics").text
            #expect(MetricsAgreementTests.sample(metrics, "tock_hosts") == 2)
            #expect(MetricsAgreementTests.sample(metrics, "tock_host_refused_series_total") == 2)
            #expect(MetricsAgreementTests.sample(metrics, "tock_host_stored_values") == 2)
        }
    }

    @Test("[hosts] settings are read and checked")
    func settings() throws {
        var c = ServerConfiguration()
        try c.apply(toml: "[hosts]\nretention = \"1h\"\nmax-series = 5\nresolution = \"1m\"\ncheck-interval = \"30s\"\n")
        #expect(c.hosts.retention == GoDuration.hour)
        #expect(c.hosts.maxSeries == 5)
        #expect(c.hosts.valuesPerSeries == 60)
        #expect(c.hosts.checkInterval == 30 * GoDuration.second)
        #expect(throws: ConfigurationError.self) { try c.apply(toml: "[hosts]\nmax-series = 0\n") }
        #expect(throws: ConfigurationError.self) { try c.apply(toml: "[hosts]\nretention = \"soon\"\n") }
        try c.apply(environment: ["TOCK_HOSTS_ENABLED": "false"])
        #expect(c.hosts.enabled == false)
    }
}

/// The recent-metrics store's bounds.
@Suite("Recent metrics store")
struct RecentMetricsTests {
    @Test("max-series and max-values hold after every batch; pruning drops values past the retention")
    func bounds() {
        var settings = HostsSettings()
        settings.maxSeries = 10
        settings.maxValues = 50
        settings.resolution = GoDuration.second
        settings.retention = 100 * GoDuration.second
        let store = RecentMetrics(settings: settings)
        for t in 0..<40 {
            let points = (0..<20).map { i in
                Point(name: "cpu", tags: Tags([("host", "h\(i % 4)"), ("cpu", "cpu\(i)")]), fields: Fields([("v", .double(Double(t)))]),
                      time: Int64(t) * GoDuration.second)
            }
            store.record(points)
            let counts = store.counts
            #expect(counts.series <= 10)
            #expect(counts.values <= 50)
        }
        #expect(store.counts.series == 10)
        #expect(store.counts.refusedSeries == 40 * 10)
        #expect(store.counts.values == 50)
        // Each series keeps its newest share: 5 values, times 35…39.
        let kept = store.query(host: "h0", measurement: "cpu", field: "v", start: 0, stop: 100 * GoDuration.second)
        #expect(kept.allSatisfy { $0.samples.map(\.time) == (35...39).map { Int64($0) * GoDuration.second } })
        store.prune(now: 137 * GoDuration.second)
        #expect(store.counts.values == 30)
        store.prune(now: 1000 * GoDuration.second)
        #expect(store.counts.series == 0)
        #expect(store.counts.values == 0)
    }

    @Test("one value per series per resolution bucket, the last one wins; older values are ignored")
    func buckets() {
        var settings = HostsSettings()
        settings.resolution = 10 * GoDuration.second
        let store = RecentMetrics(settings: settings)
        func point(_ v: Double, _ s: Int64) -> Point {
            Point(name: "m", tags: Tags([("host", "a")]), fields: Fields([("f", .double(v))]), time: s * GoDuration.second)
        }
        store.record([point(1, 100), point(2, 105), point(3, 111), point(4, 99)])
        let series = store.query(host: "a", measurement: "m", field: nil, start: 0, stop: 1000 * GoDuration.second)
        #expect(series.count == 1)
        #expect(series[0].samples.map(\.value) == [2, 3])
        #expect(series[0].samples.map(\.time) == [100 * GoDuration.second, 110 * GoDuration.second])
    }

    @Test("observing batches of many hosts registers every host and keeps each series once")
    func manyHosts() throws {
        let directory = NSTemporaryDirectory() + "tock-hosts-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let inventory = try HostInventory(store: try Store(path: directory + "/tock.db"), settings: HostsSettings())
        let points = (0..<50_000).map { i in
            Point(name: "cpu", tags: Tags([("host", "h\(i % 100)"), ("cpu", "cpu\(i % 8)")]),
                  fields: Fields([("usage_user", .double(1)), ("usage_system", .double(2))]), time: Int64(i / 800) * GoDuration.second)
        }
        for first in stride(from: 0, to: points.count, by: 5_000) {
            inventory.observe(Array(points[first..<(first + 5_000)]), database: "telegraf", arrival: nowNanoseconds())
        }
        #expect(inventory.all().count == 100)
        #expect(inventory.metrics.counts.series == 400)
        #expect(try inventory.flush() == 100)
    }
}

@Suite("the host inventory's recent metrics are kept in the store: a restarted daemon still answers them")
struct HostRecentMetricsStoreTests {
    static func point(host: String, cpu: String, _ value: Double, at seconds: Int64) -> Point {
        Point(name: "cpu", tags: Tags([("host", host), ("cpu", cpu)]),
              fields: Fields([("usage_user", .double(value)), ("usage_system", .double(value / 2))]), time: seconds * GoDuration.second)
    }

    @Test("values saved at a flush come back in a new inventory on the same store; a deleted host's do not")
    func survivesRestart() throws {
        let directory = NSTemporaryDirectory() + "tock-hosts-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now: Int64 = 1_000 * GoDuration.second
        do {
            let first = try HostInventory(store: try Store(path: directory + "/tock.db"), settings: HostsSettings(), now: now)
            first.observe([Self.point(host: "web1", cpu: "cpu0", 10, at: 900), Self.point(host: "web1", cpu: "cpu0", 20, at: 950),
                           Self.point(host: "web1", cpu: "cpu1", 30, at: 950), Self.point(host: "db1", cpu: "cpu0", 40, at: 950)],
                          database: "telegraf", arrival: now)
            try first.flush(now: now)
            try first.delete("db1")
        }
        let second = try HostInventory(store: try Store(path: directory + "/tock.db"), settings: HostsSettings(), now: now)
        let series = second.metrics.query(host: "web1", measurement: "cpu", field: "usage_user", start: 0, stop: now)
        #expect(series.map { $0.tags["cpu"] } == ["cpu0", "cpu1"])
        #expect(series[0].samples.map(\.value) == [10, 20])
        #expect(series[0].samples.map(\.time) == [900 * GoDuration.second, 950 * GoDuration.second])
        #expect(second.metrics.query(host: "web1", measurement: "cpu", field: "usage_system", start: 0, stop: now)[1].samples.map(\.value) == [15])
        #expect(second.metrics.query(host: "db1", measurement: "cpu", field: nil, start: 0, stop: now).isEmpty)
        #expect(second.metrics.counts.series == 4)
    }

    @Test("the stored values are bounded like the ones in memory: older than retention, or beyond max-values, they go")
    func prunedToItsBounds() throws {
        let directory = NSTemporaryDirectory() + "tock-hosts-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var settings = HostsSettings()
        settings.retention = 100 * GoDuration.second
        settings.maxValues = 6
        let store = try Store(path: directory + "/tock.db")
        let inventory = try HostInventory(store: store, settings: settings, now: 0)
        let now: Int64 = 1_000 * GoDuration.second
        // Four times of one series (two fields each): the first is past the retention at `now`.
        inventory.observe((0..<4).map { Self.point(host: "web1", cpu: "cpu0", Double($0), at: [850, 920, 950, 990][$0]) },
                          database: "telegraf", arrival: now)
        try inventory.flush(now: now)
        let stored = try store.hostSamples(since: 0)
        #expect(stored.count == 6)
        #expect(stored.map(\.time).min() == 920 * GoDuration.second)
    }

    @Test("a flush saves only what changed: a value replaced in its bucket is saved again, an unchanged series is not")
    func savesOnlyWhatChanged() throws {
        let directory = NSTemporaryDirectory() + "tock-hosts-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now: Int64 = 1_000 * GoDuration.second
        let store = try Store(path: directory + "/tock.db")
        let inventory = try HostInventory(store: store, settings: HostsSettings(), now: now)
        inventory.observe([Self.point(host: "web1", cpu: "cpu0", 1, at: 950), Self.point(host: "web1", cpu: "cpu1", 5, at: 950)],
                          database: "telegraf", arrival: now)
        try inventory.flush(now: now)
        #expect(inventory.metrics.takeUnsaved().isEmpty)
        // The same 10-second bucket, a new value: the last written wins, in memory and in the store.
        inventory.observe([Self.point(host: "web1", cpu: "cpu0", 2, at: 951)], database: "telegraf", arrival: now)
        let unsaved = inventory.metrics.takeUnsaved()
        #expect(Set(unsaved.map { $0.key.tags["cpu"] }) == ["cpu0"])
        inventory.metrics.markUnsaved(unsaved)
        try inventory.flush(now: now)
        let stored = try store.hostSamples(since: 0).filter { $0.tags["cpu"] == "cpu0" && $0.field == "usage_user" }
        #expect(stored.map(\.value) == [2])
    }
}

