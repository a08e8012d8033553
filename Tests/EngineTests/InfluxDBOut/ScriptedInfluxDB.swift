import Foundation
import TockModel
@testable import Engine

/// An `InfluxDBService` whose answers a test scripts: it keeps what it was asked and fails writes as told, so the
/// node's buffering, retries and bounds can be checked without a server (the real InfluxDB is tested end to end).
final class ScriptedInfluxDB: InfluxDBService, @unchecked Sendable {
    private let lock = NSLock()
    private var _writes: [InfluxWrite] = []
    private var _attempts = 0
    private var _created: [(database: String, retentionPolicy: String?)] = []
    private var _writesBeforeCreate = 0
    /// Decides the outcome of each write attempt (0-based): nil accepts it.
    var failure: @Sendable (_ attempt: Int, _ write: InfluxWrite) -> InfluxDBError? = { _, _ in nil }
    let clusters: Set<String>

    init(clusters: Set<String> = ["default"], failure: @escaping @Sendable (Int, InfluxWrite) -> InfluxDBError? = { _, _ in nil }) {
        self.clusters = clusters
        self.failure = failure
    }

    var writes: [InfluxWrite] { lock.withLock { _writes } }
    var attempts: Int { lock.withLock { _attempts } }
    var created: [(database: String, retentionPolicy: String?)] { lock.withLock { _created } }
    /// Writes accepted before the database was created (0 when `.create()` came first, as it must).
    var writesBeforeCreate: Int { lock.withLock { _writesBeforeCreate } }
    var writtenPoints: [Point] { writes.flatMap(\.points) }

    var defaultCluster: String? { "default" }
    func hasCluster(_ name: String) -> Bool { clusters.contains(name) }

    func query(_ query: InfluxQuery) async throws -> [QuerySeries] { [] }

    func write(_ write: InfluxWrite) async throws {
        let attempt = lock.withLock { () -> Int in
            defer { _attempts += 1 }
            return _attempts
        }
        if let error = failure(attempt, write) { throw error }
        lock.withLock { _writes.append(write) }
    }

    func createDatabase(cluster: String?, database: String, retentionPolicy: String?) async throws {
        lock.withLock {
            _created.append((database, retentionPolicy))
            if !_writes.isEmpty { _writesBeforeCreate = _writes.count }
        }
    }

    /// Waits (up to `seconds`) until `condition` holds.
    func wait(seconds: Double = 10, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}
