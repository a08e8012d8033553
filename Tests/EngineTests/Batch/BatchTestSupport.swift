import Foundation
import Synchronization
import TICKScript
import TockModel
@testable import Engine

/// An ``InfluxDBService`` for unit tests of the query node's and influxDBOut's logic (the real InfluxDB is tested end
/// to end): it records the query texts it is sent and answers each with the next canned answer (series or an error;
/// once they run out, no series), and keeps the writes it takes, failing each attempt `writeFailure` says to.
final class RecordingInfluxDB: InfluxDBService {
    enum Answer: Sendable {
        case series([QuerySeries])
        case failure(InfluxDBError)
    }

    private struct State {
        var queries: [InfluxQuery] = []
        var answers: [Answer] = []
        var writes: [InfluxWrite] = []
        var attempts = 0
        var created: [(database: String, retentionPolicy: String?)] = []
        var writesBeforeCreate = 0
    }

    private let state = Mutex(State())
    let clusters: Set<String>
    /// Decides the outcome of each write attempt (0-based): nil accepts it.
    let writeFailure: @Sendable (_ attempt: Int, _ write: InfluxWrite) -> InfluxDBError?

    init(answers: [Answer] = [], clusters: Set<String> = ["default"],
         writeFailure: @escaping @Sendable (Int, InfluxWrite) -> InfluxDBError? = { _, _ in nil }) {
        self.clusters = clusters
        self.writeFailure = writeFailure
        state.withLock { $0.answers = answers }
    }

    var defaultCluster: String? { "default" }
    func hasCluster(_ name: String) -> Bool { clusters.contains(name) }

    var queries: [InfluxQuery] { state.withLock { $0.queries } }
    var writes: [InfluxWrite] { state.withLock { $0.writes } }
    var writtenPoints: [Point] { writes.flatMap(\.points) }
    var created: [(database: String, retentionPolicy: String?)] { state.withLock { $0.created } }
    /// Writes accepted before the database was created (0 when `.create()` came first, as it must).
    var writesBeforeCreate: Int { state.withLock { $0.writesBeforeCreate } }

    func query(_ query: InfluxQuery) async throws -> [QuerySeries] {
        let answer: Answer? = state.withLock { s in
            s.queries.append(query)
            return s.answers.isEmpty ? nil : s.answers.removeFirst()
        }
        switch answer {
        case .series(let series)?: return series
        case .failure(let error)?: throw error
        case nil: return []
        }
    }

    func write(_ write: InfluxWrite) async throws {
        let attempt = state.withLock { s -> Int in
            defer { s.attempts += 1 }
            return s.attempts
        }
        if let error = writeFailure(attempt, write) { throw error }
        state.withLock { $0.writes.append(write) }
    }

    func createDatabase(cluster: String?, database: String, retentionPolicy: String?) async throws {
        state.withLock { s in
            s.created.append((database, retentionPolicy))
            if !s.writes.isEmpty { s.writesBeforeCreate = s.writes.count }
        }
    }
}

/// The pipeline of `script`, built with `influxDB` and `mode`.
func batchPipeline(_ script: String, influxDB: (any InfluxDBService)? = RecordingInfluxDB(),
                   mode: BatchSourceMode = .schedule) throws -> Pipeline {
    var builder = TaskBuilder(taskID: "t")
    builder.influxDB = influxDB
    builder.batchSourceMode = mode
    return try builder.build(try Program.parse(script))
}

/// The plan of the first query node of `script`.
func plan(_ script: String) throws -> BatchQueryPlan {
    try batchPipeline(script).queryPlans[0]
}

/// `2026-01-01T00:00:00Z` plus `seconds`.
func t(_ seconds: Int64) -> Timestamp { RFC3339Nano.parse("2026-01-01T00:00:00Z")! + seconds * GoDuration.second }

/// Waits up to `timeout` seconds for `condition`; a test then checks what it waited for.
func eventually(timeout: Double = 10, _ condition: () -> Bool) {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
}
