import Foundation
import TockModel

/// An ``InfluxDBService`` with no InfluxDB behind it, for runs without a daemon (`tock run`, `tock test`, replays
/// whose writes must not reach the real database): every write is handed to `onWrite` (and kept when no handler is
/// given), every query fails with a clear error, `create` succeeds.
public final class CapturedInfluxDB: InfluxDBService, @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [InfluxWrite] = []
    private let onWrite: (@Sendable (InfluxWrite) -> Void)?
    private let clusters: Set<String>

    /// `clusters` are the names `.cluster()` may use besides the default; `onWrite` sees each write as it happens.
    public init(clusters: Set<String> = [], onWrite: (@Sendable (InfluxWrite) -> Void)? = nil) {
        self.clusters = clusters
        self.onWrite = onWrite
    }

    public var defaultCluster: String? { "default" }

    public func hasCluster(_ name: String) -> Bool { name.isEmpty || name == "default" || clusters.contains(name) }

    /// The writes kept so far (only when no `onWrite` handler was given).
    public var writes: [InfluxWrite] { lock.withLock { kept } }

    public func query(_ query: InfluxQuery) async throws -> [QuerySeries] {
        throw InfluxDBError(.unknownCluster, "no InfluxDB to query here (query \"\(query.text)\"): give the run recorded batches, or define the task on a daemon with [[influxdb]] configured")
    }

    public func write(_ write: InfluxWrite) async throws {
        if let onWrite { onWrite(write) } else { lock.withLock { kept.append(write) } }
    }

    public func createDatabase(cluster: String?, database: String, retentionPolicy: String?) async throws {}
}
