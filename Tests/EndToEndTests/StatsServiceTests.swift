import Foundation
import Testing

/// The `[stats]` service: the daemon's statistics reach its own stream as points of `_kapacitor`.`autogen`.
@Suite("The [stats] service", .serialized)
struct StatsServiceSpecification {
    @Test("a task on _kapacitor.autogen sees the daemon's statistics with Kapacitor's names and tags, and can alert on them")
    func selfMonitoringTask() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: """
            [stats]
              stats-interval = "250ms"
            """)
        defer { daemon.stop() }
        let alertLog = dir + "/ingress_alerts.log"
        let script = try file("selfwatch.tick", """
            dbrp "_kapacitor"."autogen"

            stream
                |from()
                    .measurement('ingress')
                    .where(lambda: "database" == 'telegraf')
                |alert()
                    .id('ingress {{ index .Tags "measurement" }}')
                    .crit(lambda: "points_received" >= 3)
                    .log('\(alertLog)')

            stream
                |from()
                    .measurement('nodes')
                    .groupBy('task', 'node')
                |httpOut('nodes')

            stream
                |from()
                    .measurement('kapacitor')
                |httpOut('global')

            stream
                |from()
                    .measurement('edges')
                    .groupBy('parent', 'child')
                |httpOut('edges')
            """, in: dir)
        let defined = try daemon.cli(["define", "selfwatch", "-tick", script])
        #expect(defined.status == 0, "\(defined.stderr)")
        let enabled = try daemon.cli(["enable", "selfwatch"])
        #expect(enabled.status == 0, "\(enabled.stderr)")
        #expect(try await daemon.write("cpu v=1 1\ncpu v=2 2\ncpu v=3 3\n", db: "telegraf", rp: "autogen") == 204)

        try await DaemonProcess.waitUntil("the alert on points_received fires") {
            ((try? String(contentsOfFile: alertLog, encoding: .utf8)) ?? "").contains("CRITICAL")
        }
        let alert = try #require(String(contentsOfFile: alertLog, encoding: .utf8).split(separator: "\n").first)
        let event = try #require(JSONSerialization.jsonObject(with: Data(alert.utf8)) as? [String: Any])
        #expect(event["id"] as? String == "ingress cpu")
        let series = try #require(((event["data"] as? [String: Any])?["series"] as? [[String: Any]])?.first)
        #expect(series["name"] as? String == "ingress")
        let tags = try #require(series["tags"] as? [String: String])
        #expect(tags["database"] == "telegraf")
        #expect(tags["retention_policy"] == "autogen")
        #expect(tags["measurement"] == "cpu")
        #expect(tags["task_master"] == "main")
        let columns = try #require(series["columns"] as? [String])
        let row = try #require((series["values"] as? [[Any]])?.first)
        #expect((row[try #require(columns.firstIndex(of: "points_received"))] as? NSNumber)?.intValue == 3)

        // Per-node statistics of the task itself, tagged with task and node.
        var nodes: [[String: Any]] = []
        try await DaemonProcess.waitUntil("the nodes statistics reach httpOut") {
            nodes = (try? await daemon.getJSON("/kapacitor/v1/tasks/selfwatch/nodes"))?["series"] as? [[String: Any]] ?? []
            return nodes.count >= 2
        }
        let alertNode = try #require(nodes.first { ($0["tags"] as? [String: String])?["node"] == "alert2" })
        #expect(alertNode["name"] as? String == "nodes")
        #expect((alertNode["tags"] as? [String: String])?["task"] == "selfwatch")
        let nodeColumns = try #require(alertNode["columns"] as? [String])
        for column in ["avg_exec_time_ns", "collected", "emitted", "errors"] {
            #expect(nodeColumns.contains(column), "nodes lacks \(column): \(nodeColumns)")
        }

        let global = try await daemon.getJSON("/kapacitor/v1/tasks/selfwatch/global")
        let globalSeries = try #require((global["series"] as? [[String: Any]])?.first)
        #expect(globalSeries["name"] as? String == "kapacitor")
        let globalColumns = try #require(globalSeries["columns"] as? [String])
        let globalRow = try #require((globalSeries["values"] as? [[Any]])?.first)
        #expect((globalRow[try #require(globalColumns.firstIndex(of: "num_tasks"))] as? NSNumber)?.intValue == 1)
        #expect((globalRow[try #require(globalColumns.firstIndex(of: "num_enabled_tasks"))] as? NSNumber)?.intValue == 1)
        #expect(globalColumns.contains("uptime"))

        let edges = try await daemon.getJSON("/kapacitor/v1/tasks/selfwatch/edges")
        let edgeTags = ((edges["series"] as? [[String: Any]]) ?? []).compactMap { $0["tags"] as? [String: String] }
        #expect(edgeTags.contains { $0["parent"] == "from1" && $0["child"] == "alert2" && $0["type"] == "stream" }, "\(edgeTags)")

        // debug/vars shows the same statistics (one source): the task's nodes and edges are there too.
        let vars = try await daemon.getJSON("/kapacitor/v1/debug/vars")
        let kapacitor = try #require(vars["kapacitor"] as? [String: Any])
        #expect(kapacitor["nodes:selfwatch:alert2"] != nil)
        #expect(kapacitor["edges:selfwatch:from1:alert2"] != nil)
        // The stats points are ingress of _kapacitor.autogen, as Kapacitor counts them.
        #expect(kapacitor.keys.contains { $0.hasPrefix("ingress:_kapacitor:autogen:") })
    }

    @Test("with [stats] enabled = false nothing is written to _kapacitor")
    func disabled() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: """
            [stats]
              enabled = false
              stats-interval = "100ms"
            """)
        defer { daemon.stop() }
        let script = try file("selfwatch.tick", """
            dbrp "_kapacitor"."autogen"
            stream
                |from()
                |httpOut('all')
            """, in: dir)
        #expect(try daemon.cli(["define", "selfwatch", "-tick", script]).status == 0)
        #expect(try daemon.cli(["enable", "selfwatch"]).status == 0)
        // A /write to another database goes through the daemon; by then several intervals have passed.
        #expect(try await daemon.write("cpu v=1 1\n", db: "telegraf", rp: "autogen") == 204)
        try await Task.sleep(for: .milliseconds(600))
        let result = try await daemon.getJSON("/kapacitor/v1/tasks/selfwatch/all")
        #expect(result["series"] is NSNull, "\(result)")
        let vars = try await daemon.getJSON("/kapacitor/v1/debug/vars")
        let kapacitor = try #require(vars["kapacitor"] as? [String: Any])
        #expect(!kapacitor.keys.contains { $0.hasPrefix("ingress:_kapacitor:") })
    }
}
