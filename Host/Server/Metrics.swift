import Foundation

/// An HTTP API failure: the status and the message served as `{"error": "..."}`.
public struct APIError: Error, CustomStringConvertible, Sendable {
    public enum Status: Int, Sendable {
        case badRequest = 400, unauthorized = 401, forbidden = 403, notFound = 404, conflict = 409, payloadTooLarge = 413
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
    private let lock = NSLock()
    private var pointsReceived: [String: Int] = [:]   // "db\u{0}rp"
    private var writeErrors = 0
    private var writeRequests = 0
    private var udfRestarts = 0

    public init() {}

    func received(_ count: Int, database: String, retentionPolicy: String) {
        lock.lock()
        pointsReceived[database + "\u{0}" + retentionPolicy, default: 0] += count
        writeRequests += 1
        lock.unlock()
    }

    func writeFailed(badLines: Int) {
        lock.lock()
        writeErrors += badLines
        lock.unlock()
    }

    /// Counts a restart of a UDF child process.
    public func udfRestarted() {
        lock.lock()
        udfRestarts += 1
        lock.unlock()
    }

    struct Snapshot {
        var pointsReceived: [(database: String, retentionPolicy: String, count: Int)]
        var writeErrors: Int
        var writeRequests: Int
        var udfRestarts: Int
    }

    func snapshot() -> Snapshot {
        lock.lock()
        defer { lock.unlock() }
        let points = pointsReceived.keys.sorted().map { key in
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
            return (String(parts[0]), String(parts[1]), pointsReceived[key]!)
        }
        return Snapshot(pointsReceived: points, writeErrors: writeErrors, writeRequests: writeRequests,
                        udfRestarts: udfRestarts)
    }
}
