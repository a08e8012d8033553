import TICKScript
import TockModel

/// `influxDBOut` as the script sees it (Kapacitor: pipeline/influxdb_out.go, influxdb_out.go).
enum InfluxDBOutSpecs {
    static let specs: [NodeSpec] = [influxDBOut]

    /// Kapacitor's defaults: `DefaultBufferSize` and `DefaultFlushInterval`.
    static let defaultBuffer: Int64 = 1000
    static let defaultFlushInterval: Int64 = 10 * GoDuration.second

    static let influxDBOut = NodeSpec(
        name: "influxDBOut",
        properties: [
            PropertySpec("cluster", Signature([.string])),
            PropertySpec("database", Signature([.string])),
            PropertySpec("retentionPolicy", Signature([.string])),
            PropertySpec("measurement", Signature([.string])),
            PropertySpec("writeConsistency", Signature([.string])),
            PropertySpec("precision", Signature([.string])),
            PropertySpec("buffer", Signature([.int])),
            PropertySpec("flushInterval", Signature([.duration])),
            PropertySpec("create"),
            PropertySpec("tag", Signature([.string, .string]), repeatable: true),
        ],
        wants: nil, provides: .none
    ) { config in
        func position(_ name: String) -> SourcePosition {
            config.properties.last { $0.name == name }?.position ?? config.position
        }
        guard let influxDB = config.influxDB else {
            throw NodeConfigurationError(
                "no InfluxDB cluster configured, cannot use influxDBOut: add an enabled [[influxdb]] section to the configuration")
        }
        let cluster = config.string("cluster").flatMap { $0.isEmpty ? nil : $0 }
        if let cluster, !influxDB.hasCluster(cluster) {
            throw ScriptError("unknown InfluxDB cluster \"\(cluster)\": no enabled [[influxdb]] section has that name",
                              at: position("cluster"))
        }
        // Kapacitor panics on a zero buffer or flush interval (a ticker of 0); Tock refuses them where they are written.
        let buffer = config.int("buffer") ?? defaultBuffer
        if buffer <= 0 {
            throw ScriptError("influxDBOut .buffer() must be at least 1 point, got \(buffer)", at: position("buffer"))
        }
        let flushInterval = config.duration("flushInterval") ?? defaultFlushInterval
        if flushInterval <= 0 {
            throw ScriptError("influxDBOut .flushInterval() must be positive, got \(GoDuration.format(flushInterval))",
                              at: position("flushInterval"))
        }
        let precision = config.string("precision") ?? ""
        guard let wirePrecision = wirePrecision(precision) else {
            throw ScriptError("influxDBOut .precision('\(precision)'): must be one of n, u, ms, s, m, h",
                              at: position("precision"))
        }
        let consistency = config.string("writeConsistency") ?? ""
        guard ["", "any", "one", "quorum", "all"].contains(consistency) else {
            throw ScriptError("influxDBOut .writeConsistency('\(consistency)'): must be one of any, one, quorum, all",
                              at: position("writeConsistency"))
        }
        let database = config.string("database") ?? ""
        if database.isEmpty && config.inputType == .batch {
            // A batch carries no database (Kapacitor's write then fails for every batch with "database is required").
            throw NodeConfigurationError("influxDBOut on a batch edge needs .database(): batches carry no database")
        }
        var tags: [String: String] = [:]
        for call in config.calls("tag") {
            if case .string(let k)? = call.first, case .string(let v)? = call.last { tags[k] = v }
        }
        let settings = InfluxDBOutNode.Settings(
            cluster: cluster, database: database, retentionPolicy: config.string("retentionPolicy") ?? "",
            measurement: config.string("measurement") ?? "", writeConsistency: consistency, precision: wirePrecision,
            buffer: Int(buffer), flushInterval: flushInterval, create: config.has("create"),
            tags: tags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return InfluxDBOutNode(settings: settings, influxDB: influxDB)
    }

    /// The `precision` query parameter InfluxDB's `/write` takes for a script's `.precision()`; `nil` if unknown.
    static func wirePrecision(_ precision: String) -> String? {
        switch precision {
        case "", "n", "ns": return "n"
        case "u", "us", "µs": return "u"
        case "ms", "s", "m", "h": return precision
        default: return nil
        }
    }
}
