import TockModel

/// `|influxDBOut()`: writes every point or batch to InfluxDB, buffered per database and retention policy and sent
/// when `buffer` points are waiting or every `flushInterval` (Kapacitor: influxdb_out.go's writeBuffer).
///
/// Unlike Kapacitor, whose write buffer drops a batch InfluxDB does not take, writes that fail because InfluxDB is
/// down, slow or answering 5xx are kept and retried with backoff, up to ``InfluxDBWriter/capacity(buffer:)`` points;
/// beyond that the oldest are dropped, counted as errors and logged. The task's executor never waits for InfluxDB.
final class InfluxDBOutNode: CountingNode {
    struct Settings: Sendable {
        var cluster: String?
        /// Empty: each point's own database (stream).
        var database: String
        var retentionPolicy: String
        /// Empty: the point's or batch's measurement.
        var measurement: String
        var writeConsistency: String
        var precision: String
        var buffer: Int
        /// Nanoseconds.
        var flushInterval: Int64
        var create: Bool
        /// `.tag(k, v)`, sorted by key; they replace a tag of the same name on the data.
        var tags: [(key: String, value: String)]
    }

    let settings: Settings
    let influxDB: any InfluxDBService
    private var writer: InfluxDBWriter?

    init(settings: Settings, influxDB: any InfluxDBService) {
        self.settings = settings
        self.influxDB = influxDB
    }

    var counters: [String: Int64] { writer?.counters ?? ["points_written": 0, "write_errors": 0] }

    func start(output: any NodeOutput) throws {
        let writer = InfluxDBWriter(settings: settings, influxDB: influxDB, output: output)
        self.writer = writer
        writer.start()
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        guard let writer else { return }
        switch message {
        case .point(let p):
            var point = p
            if !settings.measurement.isEmpty { point.name = settings.measurement }
            applyTags(&point.tags)
            let destination = InfluxDBWriter.Destination(
                database: settings.database.isEmpty ? p.database : settings.database,
                retentionPolicy: settings.retentionPolicy.isEmpty ? p.retentionPolicy : settings.retentionPolicy)
            writer.add([point], to: destination)
        case .batch(let b):
            let name = settings.measurement.isEmpty ? b.name : settings.measurement
            var points: [Point] = []
            points.reserveCapacity(b.points.count)
            for bp in b.points {
                var tags = b.tags
                for (k, v) in bp.tags { tags[k] = v }
                applyTags(&tags)
                points.append(Point(name: name, tags: tags, fields: bp.fields, time: bp.time))
            }
            writer.add(points, to: InfluxDBWriter.Destination(database: settings.database,
                                                               retentionPolicy: settings.retentionPolicy))
        }
    }

    func stop(output: any NodeOutput) -> StopResult {
        guard let writer else { return .done }
        return writer.stop() ? .done : .pending
    }

    private func applyTags(_ tags: inout Tags) {
        for (k, v) in settings.tags { tags[k] = v }
    }
}
