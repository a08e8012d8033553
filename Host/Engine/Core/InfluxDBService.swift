import TockModel

/// What the engine needs from InfluxDB 1.x: queries for `batch|query()`, writes for `influxDBOut`.
///
/// The engine has no networking of its own. The daemon hands the task builder the `InfluxDB` target's client, built
/// from the `[[influxdb]]` sections; `tock run` and `tock test` hand one that answers from recordings and keeps
/// the writes as outputs. Every call may be made from any thread; none may be made on a task's executor and waited
/// for there (nodes start a `Task` and hand the result back with ``NodeOutput/post(_:)`` or ``NodeOutput/perform(_:)``).
public protocol InfluxDBService: Sendable {
    /// The name of the `default` cluster (the first enabled `[[influxdb]]` section when none says `default = true`),
    /// or `nil` when no cluster is configured.
    var defaultCluster: String? { get }

    /// Whether a cluster of that name is configured and enabled (`.cluster('name')` is checked at define).
    func hasCluster(_ name: String) -> Bool

    /// Runs one InfluxQL query and returns the series of its (single) statement, in InfluxDB's order.
    /// Throws ``InfluxDBError``; InfluxDB's own error text for a rejected query is in its message.
    func query(_ query: InfluxQuery) async throws -> [QuerySeries]

    /// Writes points in one request (`/write?db=…&rp=…&precision=…&consistency=…`).
    func write(_ write: InfluxWrite) async throws

    /// `CREATE DATABASE` (with the retention policy when one is given and is not `autogen`), as `influxDBOut().create()`.
    func createDatabase(cluster: String?, database: String, retentionPolicy: String?) async throws
}

/// One query sent to InfluxDB.
public struct InfluxQuery: Sendable, Hashable {
    /// The `[[influxdb]]` section's `name`; `nil` or empty for the default cluster.
    public var cluster: String?
    /// The InfluxQL text, time bounds and `GROUP BY` already in it.
    public var text: String
    /// `db` and `rp` parameters, for queries that do not name them (`SHOW …`, `CREATE SUBSCRIPTION …`).
    public var database: String?
    public var retentionPolicy: String?

    public init(cluster: String? = nil, text: String, database: String? = nil, retentionPolicy: String? = nil) {
        self.cluster = cluster
        self.text = text
        self.database = database
        self.retentionPolicy = retentionPolicy
    }
}

/// One series of a query result, as InfluxDB's JSON has it (`name`, `tags`, `columns`, `values`).
///
/// The client asks for `epoch=ns`, so a `time` column holds `.int` nanoseconds. Numbers are decoded as Kapacitor
/// decodes them (`json.Number`): as `.double`, whatever their spelling, so an InfluxDB integer field arrives as a
/// float exactly as it does in Kapacitor. `nil` is JSON `null`.
public struct QuerySeries: Sendable, Hashable {
    public var name: String
    public var tags: [String: String]
    public var columns: [String]
    public var values: [[FieldValue?]]

    public init(name: String, tags: [String: String] = [:], columns: [String], values: [[FieldValue?]]) {
        self.name = name
        self.tags = tags
        self.columns = columns
        self.values = values
    }
}

/// One write request: points of one database and retention policy.
public struct InfluxWrite: Sendable, Hashable {
    /// The `[[influxdb]]` section's `name`; `nil` or empty for the default cluster.
    public var cluster: String?
    public var database: String
    /// Empty for the database's default retention policy.
    public var retentionPolicy: String
    /// `precision` of the times in the line protocol sent: `n`, `u`, `ms`, `s`, `m` or `h` (times are rounded
    /// down to it, as Kapacitor's client does).
    public var precision: String
    /// `consistency`: `any`, `one`, `quorum` or `all`; empty leaves it out (InfluxDB's default).
    public var writeConsistency: String
    public var points: [Point]

    public init(cluster: String? = nil, database: String, retentionPolicy: String = "", precision: String = "n",
                writeConsistency: String = "", points: [Point]) {
        self.cluster = cluster
        self.database = database
        self.retentionPolicy = retentionPolicy
        self.precision = precision
        self.writeConsistency = writeConsistency
        self.points = points
    }
}

/// Why a call to InfluxDB failed, with what InfluxDB said.
public struct InfluxDBError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No `[[influxdb]]` section of that name (or none at all).
        case unknownCluster
        /// Connecting failed or the connection broke: InfluxDB is down or unreachable. Worth retrying.
        case unreachable
        /// No answer within the section's `timeout`. Worth retrying.
        case timeout
        /// InfluxDB answered with an error: `status` is the HTTP status (0 for an error inside a 200 result,
        /// such as a query InfluxDB rejects). Retrying helps only for 5xx.
        case rejected(status: Int)
    }

    public var kind: Kind
    /// The cluster's name and what went wrong, InfluxDB's own error text included.
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Whether the same request may succeed later (InfluxDB down, slow, or failing with a 5xx).
    public var isTransient: Bool {
        switch kind {
        case .unreachable, .timeout: return true
        case .rejected(let status): return status >= 500
        case .unknownCluster: return false
        }
    }

    public var description: String { message }
}

/// InfluxQL's quoting, for the statements Tock writes (the batch query's additions, `CREATE DATABASE`, subscriptions).
public enum InfluxQL {
    /// An identifier in double quotes, `"`, `\` and newlines escaped (influxql.QuoteIdent).
    public static func quoteIdentifier(_ name: String) -> String {
        var out = "\""
        for c in name {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }

    /// A string literal in single quotes, `\` and `'` escaped.
    public static func quoteString(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
