import Foundation
import TockModel

/// An HTTP API failure: the status and the message served as `{"error": "..."}`.
public struct APIError: Error, CustomStringConvertible, Sendable {
    public enum Status: Int, Sendable {
        case badRequest = 400, unauthorized = 401, forbidden = 403, notFound = 404, requestTimeout = 408, conflict = 409
        case payloadTooLarge = 413
        case internalServerError = 500, notImplemented = 501
    }

    public var status: Status
    public var message: String
    public var description: String { message }

    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// The daemon's own counters, served at `/metrics` (Prometheus text) and in `/kapacitor/v1/debug/vars`.
public final class Metrics: @unchecked Sendable {
    /// Where points came in: Kapacitor's ingress statistics are kept per database, retention policy and
    /// measurement.
    struct Ingress: Hashable, Comparable {
        var database: String
        var retentionPolicy: String
        var measurement: String

        static func < (a: Ingress, b: Ingress) -> Bool {
            (a.database, a.retentionPolicy, a.measurement) < (b.database, b.retentionPolicy, b.measurement)
        }
    }

    private let lock = NSLock()
    private var pointsReceived: [Ingress: Int] = [:]
    private var writeErrors = 0
    private var writeRequests = 0

    public init() {}

    /// Counts accepted points by measurement. Runs of one measurement (the usual shape of a write) cost one
    /// string comparison per point.
    func received(_ points: [Point], database: String, retentionPolicy: String) {
        guard !points.isEmpty else { return }
        var counts: [(String, Int)] = []
        // Through the buffer, so that reading a name does not copy (retain) the whole point.
        points.withUnsafeBufferPointer { points in
            for i in points.indices {
                if let last = counts.indices.last, counts[last].0 == points[i].name {
                    counts[last].1 += 1
                } else {
                    counts.append((points[i].name, 1))
                }
            }
        }
        lock.lock()
        for (name, n) in counts {
            pointsReceived[Ingress(database: database, retentionPolicy: retentionPolicy, measurement: name), default: 0] += n
        }
        lock.unlock()
    }

    /// Counts one `/write` request.
    func writeRequested() {
        lock.lock()
        writeRequests += 1
        lock.unlock()
    }

    func writeFailed(badLines: Int) {
        lock.lock()
        writeErrors += badLines
        lock.unlock()
    }

    private var loadErrors = 0

    /// Counts a file the `[load]` service could not load (Kapacitor's `load` statistic `errors`).
    func loadFailed() {
        lock.lock()
        loadErrors += 1
        lock.unlock()
    }

    var loadErrorCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return loadErrors
    }

    struct Snapshot {
        var pointsReceived: [(ingress: Ingress, count: Int)]
        var writeErrors: Int
        var writeRequests: Int
    }

    func snapshot() -> Snapshot {
        lock.lock()
        defer { lock.unlock() }
        let points = pointsReceived.keys.sorted().map { ($0, pointsReceived[$0]!) }
        return Snapshot(pointsReceived: points, writeErrors: writeErrors, writeRequests: writeRequests)
    }
}
