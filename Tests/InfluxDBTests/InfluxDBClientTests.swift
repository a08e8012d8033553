import Engine
import Foundation
import InfluxDB
import InfluxDBTesting
import Testing
import TockModel

/// The client against a real influxd: what it sends is what InfluxDB stores, what InfluxDB answers is what the
/// engine gets.
@Suite("InfluxDB client", .serialized, .enabled(if: InfluxDBServer.isAvailable, "influxd is not installed (apt install influxdb)"))
struct InfluxDBClientTests {
    static func clusters(_ urls: [String], name: String = "local", timeout: Int64 = 0) throws -> InfluxDBClusters {
        var c = InfluxDBConfiguration(name: name, urls: urls)
        c.timeout = timeout
        return try #require(try InfluxDBClusters.make([c]))
    }

    @Test("query results: numbers as doubles, strings, booleans, nulls, tags, one series per group, time in ns")
    func queryDecoding() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE db")
        try await influx.write("""
            cpu,host=a count=3i,load=0.5,state="up",ok=true 1000000001
            cpu,host=a count=4i 2000000002
            cpu,host=b count=9007199254740993i,load=2 3000000003
            """, database: "db")
        let influxDB = try Self.clusters([influx.url])
        let series = try await influxDB.query(InfluxQuery(text: "SELECT count, load, state, ok FROM cpu GROUP BY host", database: "db"))
        #expect(series.count == 2)
        let a = try #require(series.first)
        #expect(a.name == "cpu")
        #expect(a.tags == ["host": "a"])
        #expect(a.columns == ["time", "count", "load", "state", "ok"])
        #expect(a.values == [
            [.int(1_000_000_001), .double(3), .double(0.5), .string("up"), .bool(true)],
            [.int(2_000_000_002), .double(4), nil, nil, nil],
        ])
        let b = try #require(series.last)
        #expect(b.tags == ["host": "b"])
        #expect(b.values == [[.int(3_000_000_003), .double(9007199254740992), .double(2), nil, nil]])

        let empty = try await influxDB.query(InfluxQuery(text: "SELECT * FROM nothing", database: "db"))
        #expect(empty.isEmpty)
        let databases = try await influxDB.query(InfluxQuery(text: "SHOW DATABASES"))
        #expect(databases.first?.values.contains([.string("db")]) == true)
    }

    @Test("writes at every precision are stored at the time truncated to it", arguments: ["n", "u", "ms", "s", "m", "h"])
    func writePrecision(precision: String) async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE db")
        let influxDB = try Self.clusters([influx.url])
        let time: Int64 = 1_700_000_123_456_789_012
        let unit: Int64 = ["n": 1, "u": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000][precision]!
        let point = Point(name: "m", tags: Tags(["t": "x y", "k": "v,w"]), fields: Fields(["f": .double(1.25), "i": .int(-7), "s": .string("a \"q\"")]), time: time)
        try await influxDB.write(InfluxWrite(database: "db", precision: precision, points: [point]))
        let rows = try await influx.rows("SELECT * FROM m", database: "db")
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect((row["time"] as? NSNumber)?.int64Value == time / unit * unit)
        #expect(row["t"] as? String == "x y")
        #expect(row["k"] as? String == "v,w")
        #expect((row["f"] as? NSNumber)?.doubleValue == 1.25)
        #expect((row["i"] as? NSNumber)?.int64Value == -7)
        #expect(row["s"] as? String == "a \"q\"")
    }

    @Test("a write names the retention policy; InfluxDB's refusal comes back with its text")
    func writeRetentionPolicyAndRefusal() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE db")
        try await influx.query("CREATE RETENTION POLICY week ON db DURATION 7d REPLICATION 1")
        let influxDB = try Self.clusters([influx.url])
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let point = Point(name: "m", fields: Fields(["v": .double(1)]), time: now)
        try await influxDB.write(InfluxWrite(database: "db", retentionPolicy: "week", points: [point]))
        #expect(try await influx.rows("SELECT * FROM \"week\".m", database: "db").count == 1)
        #expect(try await influx.rows("SELECT * FROM \"autogen\".m", database: "db").isEmpty)

        let error = await #expect(throws: InfluxDBError.self) {
            try await influxDB.write(InfluxWrite(database: "missing", points: [point]))
        }
        #expect(error?.kind == .rejected(status: 404))
        #expect(error?.message.contains("database not found") == true)
        #expect(error?.message.contains("\"local\"") == true)
        #expect(error?.isTransient == false)
    }

    @Test("createDatabase makes the database, and the retention policy when one is named")
    func createDatabase() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        let influxDB = try Self.clusters([influx.url])
        try await influxDB.createDatabase(cluster: nil, database: "plain", retentionPolicy: nil)
        try await influxDB.createDatabase(cluster: "local", database: "with rp", retentionPolicy: "week")
        try await influxDB.createDatabase(cluster: nil, database: "with rp", retentionPolicy: "month")
        try await influxDB.createDatabase(cluster: nil, database: "plain", retentionPolicy: "autogen")
        let databases = try await influxDB.query(InfluxQuery(text: "SHOW DATABASES"))
        let names = databases.flatMap { $0.values.compactMap { $0.first ?? nil } }
        #expect(names.contains(.string("plain")))
        #expect(names.contains(.string("with rp")))
        let policies = try await influxDB.query(InfluxQuery(text: "SHOW RETENTION POLICIES ON \"with rp\""))
        let rpNames = policies.flatMap { $0.values.compactMap { $0.first ?? nil } }
        #expect(Set(rpNames) == [.string("week"), .string("month")])
    }

    @Test("a query InfluxDB rejects carries InfluxDB's text and the cluster's name")
    func rejectedQuery() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        let influxDB = try Self.clusters([influx.url], name: "edge")
        let parse = await #expect(throws: InfluxDBError.self) {
            _ = try await influxDB.query(InfluxQuery(cluster: "edge", text: "SELEC nonsense"))
        }
        #expect(parse?.kind == .rejected(status: 400))
        #expect(parse?.message.contains("error parsing query") == true)
        #expect(parse?.message.contains("\"edge\"") == true)

        let missing = await #expect(throws: InfluxDBError.self) {
            _ = try await influxDB.query(InfluxQuery(text: "SELECT * FROM m", database: "nowhere"))
        }
        #expect(missing?.kind == .rejected(status: 0))
        #expect(missing?.message.contains("database not found: nowhere") == true)
    }

    @Test("a stopped InfluxDB is unreachable; it is reached again once it is back")
    func unreachable() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        let influxDB = try Self.clusters([influx.url], timeout: 60 * GoDuration.second)
        influx.stop()
        let error = await #expect(throws: InfluxDBError.self) {
            _ = try await influxDB.query(InfluxQuery(text: "SHOW DATABASES"))
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.isTransient == true)
        #expect(error?.message.contains(influx.url) == true)
        try await influx.restart()
        #expect(try await influxDB.query(InfluxQuery(text: "SHOW DATABASES")).count == 1)
    }

    @Test("an InfluxDB that accepts the connection and never answers times out after the section's timeout")
    func timeout() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let influxDB = try Self.clusters(["http://127.0.0.1:\(silent.port)"], timeout: 300 * GoDuration.millisecond)
        let error = await #expect(throws: InfluxDBError.self) {
            _ = try await influxDB.query(InfluxQuery(text: "SHOW DATABASES"))
        }
        #expect(error?.kind == .timeout)
        #expect(error?.message.contains("300ms") == true)
    }

    @Test("when the first URL cannot be reached the next one is used")
    func failover() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        let closed = try InfluxDBServer.freePort()
        let influxDB = try Self.clusters(["http://127.0.0.1:\(closed)", influx.url])
        try await influxDB.createDatabase(cluster: nil, database: "db", retentionPolicy: nil)
        let point = Point(name: "m", fields: Fields(["v": .double(1)]), time: 1_000_000_000)
        try await influxDB.write(InfluxWrite(database: "db", points: [point]))
        #expect(try await influx.rows("SELECT * FROM m", database: "db").count == 1)

        let allDown = try Self.clusters(["http://127.0.0.1:\(closed)", "http://127.0.0.1:\(try InfluxDBServer.freePort())"])
        let error = await #expect(throws: InfluxDBError.self) {
            try await allDown.write(InfluxWrite(database: "db", points: [point]))
        }
        #expect(error?.kind == .unreachable)
    }

    @Test("basic auth reaches InfluxDB: refused without the right password, accepted with it")
    func basicAuth() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE USER admin WITH PASSWORD 'secret' WITH ALL PRIVILEGES")
        influx.stop()
        let configPath = influx.directory + "/influxdb.conf"
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "log-enabled = false", with: "log-enabled = false\n  auth-enabled = true")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        try await influx.restart()
        var good = InfluxDBConfiguration(name: "auth", urls: [influx.url])
        good.username = "admin"
        good.password = "secret"
        var bad = good
        bad.name = "bad"
        bad.password = "wrong"
        let influxDB = try #require(try InfluxDBClusters.make([good, bad]))
        #expect(influxDB.defaultCluster == "auth")
        try await influxDB.createDatabase(cluster: "auth", database: "db", retentionPolicy: nil)
        let error = await #expect(throws: InfluxDBError.self) {
            _ = try await influxDB.query(InfluxQuery(cluster: "bad", text: "SHOW DATABASES"))
        }
        #expect(error?.kind == .rejected(status: 401))
        #expect(error?.message.contains("authorization failed") == true)
    }
}
