import Foundation
import InfluxDBTesting
import Testing

/// The harness other tests rely on: a real `influxd` on loopback that keeps its data across a stop and a restart.
@Suite("A real InfluxDB for tests", .enabled(if: InfluxDBServer.isAvailable, "influxd is not installed (apt install influxdb)"))
struct InfluxDBServerTests {
    @Test("starts on loopback, stores writes, and keeps them across stop and restart")
    func keepsDataAcrossRestart() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE t")
        try await influx.write("cpu,host=a value=1.5 1000000000\ncpu,host=b value=2 2000000000", database: "t")
        influx.stop()
        await #expect(throws: (any Error).self) { try await influx.query("SHOW DATABASES") }
        try await influx.restart()
        let rows = try await influx.rows("SELECT * FROM cpu", database: "t")
        #expect(rows.count == 2)
        #expect(rows.first?["host"] as? String == "a")
        #expect(rows.first?["time"] as? Int == 1_000_000_000)
    }
}
