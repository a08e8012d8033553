import Foundation
import Storage
import Testing

/// Scripts written to crash the daemon — stack-deep expressions, durations and counts past 64 bits, float
/// literals past a double — are refused by `tock define` and `tock fmt` with a line:column error, the
/// daemon keeps answering, and a data directory already holding such tasks boots with them idle.
@Suite("Hostile scripts", .serialized)
struct HostileScriptTests {
    /// The issue's reproducers: a name, the script, and what the error must say.
    static let reproducers: [(name: String, script: String, error: String)] = [
        ("parens", "stream\n    |from()\n    |where(lambda: " + String(repeating: "(", count: 8000) + "TRUE"
            + String(repeating: ")", count: 8000) + ")\n", "expression nested deeper than 200 levels"),
        ("ors", "stream\n    |from()\n    |where(lambda: "
            + (0..<20_000).map { "\"f\($0)\" > 0" }.joined(separator: " OR ") + ")\n",
         "expression nested deeper than 200 levels"),
        ("plus", "stream\n    |from()\n    |eval(lambda: " + Array(repeating: "\"v\"", count: 15_000).joined(separator: " + ")
            + ").as('x')\n", "expression nested deeper than 200 levels"),
        ("nots", "stream\n    |from()\n    |where(lambda: " + String(repeating: "!", count: 10_000) + "TRUE)\n",
         "expression nested deeper than 200 levels"),
        ("shift", "stream\n    |from()\n    |shift(2562047h)\n", "3:12: duration 2562047h0m0s is out of range"),
        ("count", "stream\n    |from()\n    |window()\n        .periodCount(9223372036854775807)\n",
         "4:22: count 9223372036854775807 for window.periodCount is out of range"),
        ("float", "var x = 1" + String(repeating: "0", count: 400) + ".0\nstream\n    |from()\n",
         "1:9: float 100000000000…000000.0 (403 characters) overflows a 64-bit float"),
    ]

    static func write(_ name: String, _ text: String, in directory: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func pings(_ daemon: DaemonProcess) async -> Bool {
        (try? await HTTP.send("GET", daemon.url + "/ping"))?.status == 204
    }

    @Test("tock define refuses each reproducer with line:column, over the CLI and over HTTP; the daemon keeps answering")
    func defineRefuses() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        for (name, script, error) in Self.reproducers {
            let file = try Self.write("\(name).tick", script, in: dir)
            let result = try daemon.cli(["define", name, "-tick", file, "-dbrp", "db.rp", "-type", "stream"])
            #expect(result.status != 0, "\(name) was accepted")
            #expect(result.stderr.contains(error), "\(name): \(result.stderr.prefix(500))")
            #expect(result.stderr.range(of: #"\d+:\d+: "#, options: .regularExpression) != nil)
            #expect(result.stderr.utf8.count < 2000, "\(name): the error quotes the offending line cut short")

            let body = try JSONSerialization.data(withJSONObject: [
                "id": name + "_http", "type": "stream", "dbrps": [["db": "db", "rp": "rp"]], "script": script,
                "status": "enabled",
            ])
            let reply = try await HTTP.send("POST", daemon.url + "/kapacitor/v1/tasks", body: body)
            #expect(reply.status == 400, "\(name): \(reply.status)")
            #expect(String(decoding: reply.body, as: UTF8.self).contains(error))
            #expect(await Self.pings(daemon), "the daemon stopped answering after \(name)")
        }
        let listed = try daemon.cli(["list", "tasks"])
        #expect(listed.status == 0)
        for (name, _, _) in Self.reproducers { #expect(!listed.stdout.contains(name)) }
    }

    @Test("Scripts just inside the limit define, run and format on the daemon's own threads")
    func atTheLimit() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let parens = String(repeating: "(", count: 190) + "\"value\" > 0" + String(repeating: ")", count: 190)
        let ors = (0..<190).map { "\"value\" == \($0)" }.joined(separator: " OR ")
        let scripts = [
            // Lambdas 193 and 192 levels deep.
            "deep": "stream\n    |from()\n        .measurement('cpu')\n    |where(lambda: \(parens))\n    |where(lambda: \(ors))\n"
                + "    |httpOut('out')\n",
            // A pipeline of 190 links.
            "long": "stream\n    |from()\n        .measurement('cpu')\n" + String(repeating: "    |default()\n", count: 186)
                + "    |httpOut('out')\n",
        ]
        for (name, script) in scripts.sorted(by: { $0.key < $1.key }) {
            let file = try Self.write("\(name).tick", script, in: dir)
            let defined = try daemon.cli(["define", name, "-tick", file, "-dbrp", "db.rp", "-type", "stream"])
            #expect(defined.status == 0, "\(name): \(defined.stderr.prefix(500))")
            #expect(try daemon.cli(["enable", name]).status == 0)
            let formatted = try TockBinary.run(["fmt", file])
            #expect(formatted.status == 0, "\(name): \(formatted.stderr.prefix(500))")
        }
        // 995 is no OR term: "deep" drops it, "long" passes it; both pass 7, written after it.
        #expect(try await daemon.write("cpu value=995 1\ncpu value=7 2\n", db: "db", rp: "rp") == 204)
        for name in ["deep", "long"] {
            var values: [[Any]] = []
            for _ in 0..<400 {
                let out = try await daemon.getJSON("/kapacitor/v1/tasks/\(name)/out")
                values = (out["series"] as? [[String: Any]])?.first?["values"] as? [[Any]] ?? []
                if (values.last?.last as? NSNumber)?.doubleValue == 7 { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect((values.last?.last as? NSNumber)?.doubleValue == 7, "\(name)")
            #expect(!values.contains { ($0.last as? NSNumber)?.doubleValue == 995 } || name == "long", "\(name)")
        }
        #expect(await Self.pings(daemon))
    }

    @Test("tock fmt refuses a 400-digit float at line:column and keeps the largest double parseable")
    func fmt() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let huge = try Self.write("huge.tick", "var x = 1" + String(repeating: "0", count: 400) + ".0\n", in: dir)
        let refused = try TockBinary.run(["fmt", huge])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains(":1:9: float 100000000000…000000.0 (403 characters) overflows a 64-bit float"))
        #expect(!refused.stdout.contains("inf"))

        let largest = "179769313486231570" + String(repeating: "0", count: 291) + ".0"
        let big = try Self.write("big.tick", "var x = \(largest)\n", in: dir)
        let formatted = try TockBinary.run(["fmt", big])
        #expect(formatted.status == 0, "\(formatted.stderr)")
        #expect(formatted.stdout == "var x = \(largest)\n")
        for (name, script, _) in Self.reproducers.prefix(4) {
            let result = try TockBinary.run(["fmt", try Self.write("\(name).tick", script, in: dir)])
            #expect(result.status != 0 && result.stderr.contains("expression nested deeper than 200 levels"), "\(name)")
        }
    }

    @Test("A data directory holding stored hostile tasks boots: they stay idle with their error, the others run")
    func restartWithStoredHostileTasks() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // What an earlier version accepted, written straight into the store, all enabled.
        do {
            let store = try Store(path: dir + "/tock.db")
            let now = Int64(Date().timeIntervalSince1970 * 1e9)
            for (name, script, _) in Self.reproducers {
                try store.save(StoredTask(id: name, type: "stream", dbrps: [StoredDBRP(db: "db", rp: "rp")], script: script,
                                          status: "enabled", created: now, modified: now, lastEnabled: now))
            }
            try store.save(StoredTask(
                id: "good", type: "stream", dbrps: [StoredDBRP(db: "db", rp: "rp")],
                script: "stream\n    |from()\n        .measurement('cpu')\n    |httpOut('out')\n",
                status: "enabled", created: now, modified: now, lastEnabled: now))
        }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        #expect(try await daemon.write("cpu value=7 1\n", db: "db", rp: "rp") == 204)
        #expect(await Self.pings(daemon))
        for (name, _, error) in Self.reproducers {
            let task = try await daemon.getJSON("/kapacitor/v1/tasks/\(name)")
            #expect(task["executing"] as? Bool == false, "\(name)")
            #expect((task["error"] as? String)?.contains(error) == true, "\(name): \(task["error"] ?? "")")
        }
        var values: [[Any]]? = nil
        for _ in 0..<200 {
            let out = try await daemon.getJSON("/kapacitor/v1/tasks/good/out")
            values = (out["series"] as? [[String: Any]])?.first?["values"] as? [[Any]]
            if values != nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect((values?.last?.last as? NSNumber)?.doubleValue == 7)
        let shown = try daemon.cli(["show", "shift"])
        #expect(shown.stdout.contains("3:12: duration 2562047h0m0s is out of range"), "\(shown.stdout)")
        #expect(daemon.stop() == 0, "SIGTERM stops the daemon cleanly")
    }
}
