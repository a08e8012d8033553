import Foundation
import Synchronization
import TICKScript
import TockModel
@testable import Engine

/// An ``InfluxDBService`` for unit tests of the query node's logic: it records the query texts it is sent and
/// answers each with the next canned answer (series or an error); once the answers run out it answers no series.
final class RecordingInfluxDB: InfluxDBService {
    enum Answer: Sendable {
        case series([QuerySeries])
        case failure(InfluxDBError)
    }

    private let state = Mutex<(queries: [InfluxQuery], answers: [Answer])>(([], []))
    let clusters: Set<String>

    init(answers: [Answer] = [], clusters: Set<String> = ["default"]) {
        self.clusters = clusters
        state.withLock { $0.answers = answers }
    }

    var defaultCluster: String? { "default" }
    func hasCluster(_ name: String) -> Bool { clusters.contains(name) }

    var queries: [InfluxQuery] { state.withLock { $0.queries } }

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
        throw InfluxDBError(.rejected(status: 0), "RecordingInfluxDB takes no writes")
    }

    func createDatabase(cluster: String?, database: String, retentionPolicy: String?) async throws {}
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
