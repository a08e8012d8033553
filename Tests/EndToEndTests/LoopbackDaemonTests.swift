import Foundation
import Testing

/// `kapacitorLoopback` and the sideload reload API in a running daemon.
@Suite("Loopback and sideload in the daemon", .serialized)
struct LoopbackDaemonTests {
    @discardableResult
    func ok(_ daemon: DaemonProcess, _ args: [String]) throws -> String {
        let result = try daemon.cli(args)
        #expect(result.status == 0, "tock \(args.joined(separator: " ")) failed: \(result.stderr)")
        return result.stdout
    }

    @Test("a task's loopback points reach a second task reading their database, as a /write would")
    func loopbackReachesAnotherTask() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let writer = try file("writer.tick", """
            stream
                |from()
                    .measurement('cpu')
                |eval(lambda: "value" * 2.0)
                    .as('double')
                |kapacitorLoopback()
                    .database('derived')
                    .retentionPolicy('autogen')
                    .measurement('cpu_doubled')
                    .tag('via', 'loopback')
            """, in: dir)
        let reader = try file("reader.tick", """
            stream
                |from()
                    .measurement('cpu_doubled')
                |httpOut('out')
            """, in: dir)
        try ok(daemon, ["define", "writer", "-tick", writer, "-dbrp", "\"monitor\".\"autogen\"", "-type", "stream"])
        try ok(daemon, ["define", "reader", "-tick", reader, "-dbrp", "\"derived\".\"autogen\"", "-type", "stream"])
        try ok(daemon, ["enable", "writer"])
        try ok(daemon, ["enable", "reader"])
        #expect(try await daemon.write("cpu,host=a value=2 10\n", db: "monitor", rp: "autogen") == 204)

        var series: [[String: Any]] = []
        try await DaemonProcess.waitUntil("the reader's httpOut shows the looped-back point") {
            series = (try await daemon.getJSON("/kapacitor/v1/tasks/reader/out"))["series"] as? [[String: Any]] ?? []
            return !series.isEmpty
        }
        let first = try #require(series.first)
        #expect(first["name"] as? String == "cpu_doubled")
        let columns = try #require(first["columns"] as? [String])
        let values = try #require((first["values"] as? [[Any]])?.first)
        let row = Dictionary(uniqueKeysWithValues: zip(columns, values))
        #expect((row["double"] as? NSNumber)?.doubleValue == 4)
        #expect(row["time"] as? String == "1970-01-01T00:00:10Z")
    }

    @Test("a loopback into the task's own database is refused at define with line:column")
    func loopRefused() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let looping = try file("loop.tick", """
            stream
                |from()
                |kapacitorLoopback()
                    .database('monitor')
                    .retentionPolicy('autogen')
            """, in: dir)
        let result = try daemon.cli(["define", "loop", "-tick", looping, "-dbrp", "\"monitor\".\"autogen\"", "-type", "stream"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("3:5"), "\(result.stderr)")
        #expect(result.stderr.contains("loop detected on dbrp: \"monitor\".\"autogen\""), "\(result.stderr)")
    }

    @Test("POST /kapacitor/v1/sideload/reload answers 204")
    func sideloadReload() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let reply = try await HTTP.send("POST", daemon.url + "/kapacitor/v1/sideload/reload")
        #expect(reply.status == 204)
    }
}

/// `kapacitorLoopback` and `sideload` under `tock run`.
@Suite("Loopback and sideload in tock run")
struct LoopbackRunTests {
    @Test("tock run counts the loopback's points in its summary: its one task cannot receive them")
    func loopbackSummary() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tick = try file("loop.tick", """
            stream|from().measurement('cpu')|kapacitorLoopback().database('other').retentionPolicy('autogen')
            """, in: dir)
        let input = try file("in.lp", "cpu value=1 1\ncpu value=2 2\nmem value=3 3\n", in: dir)
        let run = try TockBinary.run(["run", tick, "--input", input, "--precision", "s"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("kapacitorLoopback wrote 2 to \"other\".\"autogen\"; tock run runs one task, so they reach no task"),
                "\(run.stderr)")
    }

    @Test("tock run sideloads fields and tags from a file:// directory")
    func sideload() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/values/hosts", withIntermediateDirectories: true)
        _ = try file("values/hosts/a.yml", "limit: 90\nowner: ann\n", in: dir)
        let tick = try file("side.tick", """
            stream|from().measurement('cpu')
                |sideload().source('file://\(dir)/values').order('hosts/{{.host}}.yml').field('limit', 0.0).tag('owner', 'nobody')
            """, in: dir)
        let input = try file("in.lp", "cpu,host=a value=1 1\ncpu,host=b value=2 2\n", in: dir)
        let run = try TockBinary.run(["run", tick, "--input", input, "--precision", "s"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(run.stdout)")
        #expect(lines.first?.contains("\"limit\"") == true && lines.first?.contains("90") == true, "\(run.stdout)")
        #expect(lines.first?.contains("\"ann\"") == true, "\(run.stdout)")
        #expect(lines.last?.contains("\"nobody\"") == true, "\(run.stdout)")
    }
}
