import Engine
import TockModel

/// A subscription as `SHOW SUBSCRIPTIONS` lists it.
public struct InfluxDBSubscription: Sendable, Hashable {
    public var database: String
    public var retentionPolicy: String
    public var name: String
    /// `ANY` or `ALL`.
    public var mode: String
    public var destinations: [String]

    public init(database: String, retentionPolicy: String, name: String, mode: String = "ANY", destinations: [String]) {
        self.database = database
        self.retentionPolicy = retentionPolicy
        self.name = name
        self.mode = mode
        self.destinations = destinations
    }
}

/// The InfluxQL of subscriptions (Kapacitor's `linkSubscriptions`): what there is to subscribe to, what is
/// subscribed, and creating and dropping subscriptions.
extension InfluxDBCluster {
    /// Every (database, retention policy) InfluxDB has, in its order.
    public func retentionPolicies() async throws(InfluxDBError) -> [(database: String, retentionPolicy: String)] {
        var out: [(String, String)] = []
        for database in try await firstColumn(of: "SHOW DATABASES") {
            for rp in try await firstColumn(of: "SHOW RETENTION POLICIES ON \(Self.quoteIdentifier(database))") {
                out.append((database, rp))
            }
        }
        return out
    }

    /// Every subscription of every database.
    public func subscriptions() async throws(InfluxDBError) -> [InfluxDBSubscription] {
        let series = try await query(InfluxQuery(cluster: name, text: "SHOW SUBSCRIPTIONS"))
        var out: [InfluxDBSubscription] = []
        for s in series {
            func column(_ c: String, _ row: [FieldValue?]) -> String {
                guard let i = s.columns.firstIndex(of: c), i < row.count, case .string(let v)? = row[i] else { return "" }
                return v
            }
            for row in s.values {
                let destinations = column("destinations", row).split(separator: ",").map(String.init)
                out.append(InfluxDBSubscription(database: s.name, retentionPolicy: column("retention_policy", row),
                                                name: column("name", row), mode: column("mode", row), destinations: destinations))
            }
        }
        return out
    }

    /// `CREATE SUBSCRIPTION "name" ON "db"."rp" DESTINATIONS mode 'dest', …`.
    public func createSubscription(_ s: InfluxDBSubscription) async throws(InfluxDBError) {
        let destinations = s.destinations.map(Self.quoteString).joined(separator: ", ")
        _ = try await query(InfluxQuery(cluster: name, text:
            "CREATE SUBSCRIPTION \(Self.quoteIdentifier(s.name)) ON \(Self.quoteIdentifier(s.database)).\(Self.quoteIdentifier(s.retentionPolicy)) DESTINATIONS \(s.mode.uppercased()) \(destinations)"))
    }

    /// `DROP SUBSCRIPTION "name" ON "db"."rp"`.
    public func dropSubscription(name subscription: String, database: String, retentionPolicy: String) async throws(InfluxDBError) {
        _ = try await query(InfluxQuery(cluster: name, text:
            "DROP SUBSCRIPTION \(Self.quoteIdentifier(subscription)) ON \(Self.quoteIdentifier(database)).\(Self.quoteIdentifier(retentionPolicy))"))
    }

    private func firstColumn(of text: String) async throws(InfluxDBError) -> [String] {
        try await query(InfluxQuery(cluster: name, text: text)).flatMap { series in
            series.values.compactMap { row -> String? in
                guard case .string(let s)? = row.first else { return nil }
                return s
            }
        }
    }
}
