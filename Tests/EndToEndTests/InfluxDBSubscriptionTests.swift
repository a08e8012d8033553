import Foundation
import InfluxDBTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `tock serve` with `[[influxdb]]` pointed at a real influxd: Tock subscribes, InfluxDB forwards its writes, and
/// stream tasks see them, over HTTP or UDP.
@Suite("InfluxDB subscriptions end to end", .serialized,
       .enabled(if: InfluxDBServer.isAvailable, "influxd is not installed (apt install influxdb)"))
struct InfluxDBSubscriptionTests {
    static let script = "stream\n    |from()\n        .measurement('cpu')\n    |httpOut('out')\n"

    static func configuration(_ influx: InfluxDBServer, _ extra: String = "") -> String {
        """
        hostname = "127.0.0.1"
        [[influxdb]]
          enabled = true
          name = "local"
          urls = ["\(influx.url)"]
          startup-timeout = "20s"
          subscriptions-sync-interval = "1s"
        \(extra)
        """
    }

    /// Tock's subscriptions in InfluxDB: "db.rp" → destinations.
    static func subscriptions(_ influx: InfluxDBServer, named name: String) async throws -> [String: [String]] {
        let json = try await influx.query("SHOW SUBSCRIPTIONS")
        var out: [String: [String]] = [:]
        for result in json["results"] as? [[String: Any]] ?? [] {
            for series in result["series"] as? [[String: Any]] ?? [] {
                let columns = series["columns"] as? [String] ?? []
                for row in series["values"] as? [[Any]] ?? [] {
                    let cell = Dictionary(uniqueKeysWithValues: zip(columns, row))
                    guard cell["name"] as? String == name else { continue }
                    out["\(series["name"] as? String ?? "").\(cell["retention_policy"] as? String ?? "")"] = cell["destinations"] as? [String] ?? []
                }
            }
        }
        return out
    }

    static func subscriptionName(_ dir: String) throws -> String {
        "tock-" + (try String(contentsOfFile: dir + "/cluster.id", encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The `value` fields the task's httpOut shows.
    static func outValues(_ daemon: DaemonProcess, task: String) async throws -> [Double] {
        let out = try await daemon.getJSON("/kapacitor/v1/tasks/\(task)/out")
        let series = out["series"] as? [[String: Any]] ?? []
        return series.flatMap { s -> [Double] in
            let columns = s["columns"] as? [String] ?? []
            guard let i = columns.firstIndex(of: "value") else { return [] }
            return (s["values"] as? [[Any]] ?? []).compactMap { ($0[i] as? NSNumber)?.doubleValue }
        }
    }

    func define(_ daemon: DaemonProcess, _ id: String, dbrp: String, in dir: String) throws {
        let tick = try file("\(id).tick", Self.script, in: dir)
        for args in [["define", id, "-tick", tick, "-dbrp", dbrp, "-type", "stream"], ["enable", id]] {
            let result = try daemon.cli(args)
            #expect(result.status == 0, "tock \(args.joined(separator: " ")): \(result.stderr)")
        }
    }

    static var nowSeconds: Int { Int(Date().timeIntervalSince1970) }

    @Test("points written to InfluxDB reach a stream task; a database created later is subscribed at the next sync; subscriptions stay at shutdown")
    func httpSubscription() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE printer")
        try await influx.query("CREATE DATABASE skipped")
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration(influx, """
              [influxdb.excluded-subscriptions]
                skipped = ["autogen"]
            """))
        try define(daemon, "printer_task", dbrp: "printer.autogen", in: dir)

        try await DaemonProcess.waitUntil("Tock subscribes to printer.autogen") {
            guard FileManager.default.fileExists(atPath: dir + "/cluster.id") else { return false }
            return try await Self.subscriptions(influx, named: Self.subscriptionName(dir))["printer.autogen"] != nil
        }
        let name = try Self.subscriptionName(dir)
        #expect(name.count == "tock-".count + 36)
        var subscribed = try await Self.subscriptions(influx, named: name)
        #expect(subscribed["printer.autogen"] == ["http://127.0.0.1:\(daemon.port)"])
        #expect(subscribed["skipped.autogen"] == nil, "excluded-subscriptions leaves skipped.autogen alone")

        try await influx.write("cpu,host=a value=1 \(Self.nowSeconds)\ncpu,host=b value=2 \(Self.nowSeconds)", database: "printer", precision: "s")
        try await DaemonProcess.waitUntil("the task processes both points InfluxDB forwarded") {
            try daemon.cli(["show", "printer_task"]).stdout.contains("processed=\"2\"")
        }
        #expect(try await Self.outValues(daemon, task: "printer_task") == [2])

        try await influx.query("CREATE DATABASE late")
        try await DaemonProcess.waitUntil("the database created later is subscribed") {
            try await Self.subscriptions(influx, named: name)["late.autogen"] != nil
        }

        #expect(daemon.stop() == 0)
        subscribed = try await Self.subscriptions(influx, named: name)
        #expect(Set(subscribed.keys) == ["printer.autogen", "late.autogen"], "Kapacitor leaves its subscriptions in place at shutdown")

        // Restarted with only printer allowed: Tock's subscription of late goes; the name is the same instance id.
        let again = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration(influx, """
              [influxdb.subscriptions]
                printer = ["autogen"]
            """))
        try await DaemonProcess.waitUntil("the subscription of late.autogen is dropped and printer's points to the new port") {
            try await Self.subscriptions(influx, named: name) == ["printer.autogen": ["http://127.0.0.1:\(again.port)"]]
        }
        #expect(again.stop() == 0)

        // disable-subscriptions drops Tock's own subscriptions.
        let disabled = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration(influx, "  disable-subscriptions = true"))
        try await DaemonProcess.waitUntil("Tock's subscriptions are dropped") {
            try await Self.subscriptions(influx, named: name).isEmpty
        }
        #expect(disabled.stop() == 0)
    }

    @Test("auth-enabled: each subscription writes as ~subscriber with a token for its own database and retention policy only")
    func subscriptionTokens() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE printer")
        try await influx.query("CREATE DATABASE other")
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration(influx) + "\n[http]\n  auth-enabled = true\n")
        defer { daemon.stop() }
        let added = try TockBinary.runProgram(TockBinary.path, ["users", "add", "root", "--admin", "--user-password", "rootpw", "--data-dir", dir])
        #expect(added.status == 0, "\(added.stderr)")
        let admin = ["-username", "root", "-password", "rootpw"]
        let tick = try file("printer_task.tick", Self.script, in: dir)
        for args in [["define", "printer_task", "-tick", tick, "-dbrp", "printer.autogen", "-type", "stream"], ["enable", "printer_task"]] {
            let result = try daemon.cli(args + admin)
            #expect(result.status == 0, "tock \(args.joined(separator: " ")): \(result.stderr)")
        }

        var subscribed: [String: [String]] = [:]
        try await DaemonProcess.waitUntil("Tock subscribes to printer.autogen and other.autogen") {
            guard FileManager.default.fileExists(atPath: dir + "/cluster.id") else { return false }
            subscribed = try await Self.subscriptions(influx, named: Self.subscriptionName(dir))
            return subscribed["printer.autogen"] != nil && subscribed["other.autogen"] != nil
        }
        let destination = try #require(subscribed["printer.autogen"]?.first)
        let prefix = "http://~subscriber:", suffix = "@127.0.0.1:\(daemon.port)"
        #expect(destination.hasPrefix(prefix) && destination.hasSuffix(suffix), "\(destination)")
        let token = String(destination.dropFirst(prefix.count).dropLast(suffix.count))
        #expect(subscribed["other.autogen"]?.first != destination, "each database has its own token")

        // InfluxDB forwards with the token: the task sees the points.
        try await influx.write("cpu,host=a value=1 \(Self.nowSeconds)\ncpu,host=b value=2 \(Self.nowSeconds)", database: "printer", precision: "s")
        try await DaemonProcess.waitUntil("the task processes both points InfluxDB forwarded through the authenticated subscription") {
            try daemon.cli(["show", "printer_task"] + admin).stdout.contains("processed=\"2\"")
        }

        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        #expect(!log.contains("dropped subscription"), "a subscription with its token is kept from one sync to the next")
        #expect(log.components(separatedBy: "created subscription").count - 1 == 2, "one per database")

        // The token writes to its own database only, and reads nothing.
        let basic = "Basic " + Data("~subscriber:\(token)".utf8).base64EncodedString()
        let own = try await HTTP.send("POST", daemon.url + "/write?db=printer&rp=autogen&precision=s",
                                      body: Data("cpu value=3 \(Self.nowSeconds)".utf8), headers: ["Authorization": basic])
        #expect(own.status == 204)
        let elsewhere = try await HTTP.send("POST", daemon.url + "/write?db=other&rp=autogen",
                                            body: Data("cpu value=3".utf8), headers: ["Authorization": basic])
        #expect(elsewhere.status == 403)
        #expect(String(decoding: elsewhere.body, as: UTF8.self).contains(#"does not grant POST /write to \"other\".\"autogen\""#))
        let read = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/tasks", headers: ["Authorization": basic])
        #expect(read.status == 403)
        let forged = try await HTTP.send("POST", daemon.url + "/write?db=printer&rp=autogen",
                                         body: Data("cpu value=3".utf8),
                                         headers: ["Authorization": "Basic " + Data("~subscriber:bG9jYWw7AAAA".utf8).base64EncodedString()])
        #expect(forged.status == 403)

        // Restarted, the same key gives the same tokens: InfluxDB's subscriptions stay as they are.
        #expect(daemon.stop() == 0)
        let again = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration(influx) + "\n[http]\n  auth-enabled = true\n")
        defer { again.stop() }
        try await DaemonProcess.waitUntil("the subscription points at the restarted daemon with the same token") {
            try await Self.subscriptions(influx, named: Self.subscriptionName(dir))["printer.autogen"]?.first
                == "http://~subscriber:\(token)@127.0.0.1:\(again.port)"
        }
    }

    @Test("subscription-protocol https: InfluxDB forwards over TLS to Tock's https port, trusting Tock's certificate")
    func httpsSubscription() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try DaemonProcess.selfSignedCertificate(in: dir)
        let influx = try await InfluxDBServer.start(extraConfig: "[subscriber]\n  ca-certs = \"\(dir)/cert.pem\"\n")
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE printer")
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration(influx, """
              subscription-protocol = "https"
            [http]
              https-enabled = true
              https-certificate = "\(dir)/cert.pem"
              https-private-key = "\(dir)/key.pem"
            """), scheme: "https")
        defer { daemon.stop() }
        let tick = try file("printer_task.tick", Self.script, in: dir)
        for args in [["define", "printer_task", "-tick", tick, "-dbrp", "printer.autogen", "-type", "stream"], ["enable", "printer_task"]] {
            let result = try daemon.cli(args + ["-ca", dir + "/cert.pem"])
            #expect(result.status == 0, "tock \(args.joined(separator: " ")): \(result.stderr)")
        }
        try await DaemonProcess.waitUntil("Tock subscribes to printer.autogen over https") {
            guard FileManager.default.fileExists(atPath: dir + "/cluster.id") else { return false }
            return try await Self.subscriptions(influx, named: Self.subscriptionName(dir))["printer.autogen"] == ["https://127.0.0.1:\(daemon.port)"]
        }
        try await influx.write("cpu,host=a value=1 \(Self.nowSeconds)\ncpu,host=b value=2 \(Self.nowSeconds)", database: "printer", precision: "s")
        try await DaemonProcess.waitUntil("the task processes both points InfluxDB forwarded over TLS") {
            try daemon.cli(["show", "printer_task", "-ca", dir + "/cert.pem"]).stdout.contains("processed=\"2\"")
        }
    }

    @Test("subscription-protocol udp: a UDP listener per subscription, on a free port that goes in the destination")
    func udpSubscription() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE printer")
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration(influx, """
              subscription-protocol = "udp"
              udp-bind = "127.0.0.1"
            """))
        defer { daemon.stop() }
        try define(daemon, "udp_task", dbrp: "printer.autogen", in: dir)
        try await DaemonProcess.waitUntil("Tock subscribes to printer.autogen over UDP") {
            guard FileManager.default.fileExists(atPath: dir + "/cluster.id") else { return false }
            return try await Self.subscriptions(influx, named: Self.subscriptionName(dir))["printer.autogen"] != nil
        }
        let destination = try #require(try await Self.subscriptions(influx, named: Self.subscriptionName(dir))["printer.autogen"]?.first)
        #expect(destination.hasPrefix("udp://127.0.0.1:"))
        #expect(destination != "udp://127.0.0.1:0")
        #expect(destination != "udp://127.0.0.1:\(daemon.port)")

        try await influx.write("cpu value=7 \(Self.nowSeconds)", database: "printer", precision: "s")
        try await DaemonProcess.waitUntil("the task sees the point InfluxDB sent over UDP") {
            try await Self.outValues(daemon, task: "udp_task") == [7]
        }
    }

    @Test("InfluxDB down at start: the API serves, a warning is logged, and the subscription is made once InfluxDB is up")
    func startupWithoutInfluxDB() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE printer")
        influx.stop()
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration(influx).replacingOccurrences(
            of: "startup-timeout = \"20s\"", with: "startup-timeout = \"1s\""))
        defer { daemon.stop() }
        #expect(try await HTTP.send("GET", daemon.url + "/ping").status == 204)
        try await DaemonProcess.waitUntil("the daemon warns that InfluxDB did not answer") {
            let log = (try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? ""
            return log.contains("influxdb cluster did not answer /ping within startup-timeout")
        }
        try await influx.restart()
        try await DaemonProcess.waitUntil("the subscription is made after InfluxDB comes back") {
            try await Self.subscriptions(influx, named: Self.subscriptionName(dir))["printer.autogen"] != nil
        }
    }
}

/// `[[udp]]`: line protocol in datagrams, straight to the stream tasks.
@Suite("[[udp]] listener end to end", .serialized)
struct UDPListenerTests {
    /// A daemon with one `[[udp]]` section for `metrics` (`extra` keys added), the port it bound, and `udp_task`
    /// enabled on `metrics.autogen`.
    func udpDaemon(_ dir: String, _ extra: String) async throws -> (DaemonProcess, port: Int, listening: Substring) {
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: """
            [[udp]]
              enabled = true
              bind-address = "127.0.0.1:0"
              database = "metrics"
            \(extra)
            """)
        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        let line = try #require(log.split(separator: "\n").first { $0.contains("msg=\"listening for UDP line protocol\"") })
        let port = try #require(line.split(separator: " ").first { $0.hasPrefix("address=") }?.split(separator: ":").last.flatMap { Int($0) })
        let tick = try file("udp.tick", InfluxDBSubscriptionTests.script, in: dir)
        for args in [["define", "udp_task", "-tick", tick, "-dbrp", "metrics.autogen", "-type", "stream"], ["enable", "udp_task"]] {
            #expect(try daemon.cli(args).status == 0)
        }
        return (daemon, port, line)
    }

    @Test("datagrams reach the task of the section's database; a bad line is logged with line and column, the good ones delivered")
    func udpListener() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (daemon, port, line) = try await udpDaemon(dir, "  precision = \"s\"")
        defer { daemon.stop() }
        #expect(line.contains("db=metrics") && line.contains("rp=autogen"))
        try sendDatagram("cpu value=1 1700000000\ncpu value= 1700000001\ncpu value=3 1700000002", port: port)
        try await DaemonProcess.waitUntil("the two good points reach the task") {
            try daemon.cli(["show", "udp_task"]).stdout.contains("processed=\"2\"")
        }
        #expect(try await InfluxDBSubscriptionTests.outValues(daemon, task: "udp_task") == [3])
        let out = try await daemon.getJSON("/kapacitor/v1/tasks/udp_task/out")
        let values = (out["series"] as? [[String: Any]])?.first?["values"] as? [[Any]]
        #expect(values?.first?.first as? String == "2023-11-14T22:13:22Z", "precision s applies to the datagram's times")
        try await DaemonProcess.waitUntil("the bad line is logged with its line and column") {
            let text = (try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? ""
            return text.contains("bad line protocol in UDP datagram") && text.contains(" line=2 ") && text.contains(" column=")
        }
    }

    @Test("batch-size: datagrams wait until the batch holds that many lines, then reach the task together; a bad line names its datagram")
    func udpBatches() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (daemon, port, _) = try await udpDaemon(dir, "  batch-size = 4\n  batch-timeout = \"1h\"")
        defer { daemon.stop() }
        try sendDatagram("cpu value=1 1\ncpu value=2 2", port: port)
        try sendDatagram("cpu value=3 3", port: port)
        try await Task.sleep(for: .seconds(1))
        let waiting = try daemon.cli(["show", "udp_task"]).stdout
        #expect(!waiting.contains("processed=\"") || waiting.contains("processed=\"0\""), "three lines wait for the fourth: \(waiting)")
        try sendDatagram("cpu value=4 4\ncpu value= 5", port: port)
        try await DaemonProcess.waitUntil("the batch of four good points reaches the task") {
            try daemon.cli(["show", "udp_task"]).stdout.contains("processed=\"4\"")
        }
        try await DaemonProcess.waitUntil("the bad line is logged with its datagram and its line there") {
            let text = (try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? ""
            return text.contains("bad line protocol in UDP datagram") && text.contains("datagram=\"3 of 3\"") && text.contains(" line=2 ") && text.contains(" column=")
        }
    }

    func sendDatagram(_ text: String, port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let bytes = Array(text.utf8)
        let sent = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard sent == bytes.count else { throw HarnessError("sendto: errno \(errno)") }
    }
}
