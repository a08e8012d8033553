import LineProtocol
import TockModel

/// Telegraf's input data formats (`data_format`), turning a program's output into points.
public enum DataFormat: String, Sendable, Hashable, CaseIterable {
    /// InfluxDB line protocol (Telegraf's default).
    case influx
    /// Prometheus' text exposition format, as Telegraf's `prometheus` parser (metric_version 1) reads it.
    case prometheus
    /// Telegraf's `json` format (see ``TelegrafJSON``), here with its default options.
    case json

    /// Reads the `data_format` option (default `influx`), refusing the formats Tock does not read.
    static func option(_ options: inout CollectorOptions) throws(CollectorError) -> DataFormat {
        let name = try options.string("data_format", default: "influx")
        guard let format = DataFormat(rawValue: name) else {
            throw CollectorError(options.collector, "data_format \"\(name)\" is not supported (supported: \(allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return format
    }

    /// The points in `bytes`; `measurement` names points of formats that carry no name of their own. Bad lines are
    /// reported with their line and column, and the good ones kept.
    public func parse(_ bytes: [UInt8], time: Timestamp, measurement: String) -> (points: [Point], errors: [String]) {
        switch self {
        case .influx:
            var parser = LineProtocolParser(defaultTime: time)
            var points: [Point] = []
            let errors = parser.parse(bytes, into: &points)
            return (points, errors.map(\.description))
        case .prometheus:
            return PrometheusText.parse(String(decoding: bytes, as: UTF8.self), time: time)
        case .json:
            return TelegrafJSON().parse(bytes, time: time, measurement: measurement)
        }
    }
}

/// A `data_format` with its options: the `json_*` options of the json format, and `name_override`, which renames
/// every point (as Telegraf's input option of that name does).
public struct DataParser: Sendable, Hashable {
    public var format: DataFormat
    public var json: TelegrafJSON
    public var nameOverride: String

    public init(format: DataFormat, json: TelegrafJSON = TelegrafJSON(), nameOverride: String = "") {
        self.format = format
        self.json = json
        self.nameOverride = nameOverride
    }

    /// Reads `data_format`, `name_override` and, for json, the json options.
    static func option(_ options: inout CollectorOptions) throws(CollectorError) -> DataParser {
        let format = try DataFormat.option(&options)
        let json = try format == .json ? TelegrafJSON.options(&options) : TelegrafJSON()
        return DataParser(format: format, json: json, nameOverride: try options.string("name_override", default: ""))
    }

    /// The points in `bytes` (see ``DataFormat/parse(_:time:measurement:)``), renamed by `name_override`.
    public func parse(_ bytes: [UInt8], time: Timestamp, measurement: String) -> (points: [Point], errors: [String]) {
        var result = format == .json ? json.parse(bytes, time: time, measurement: measurement)
                                     : format.parse(bytes, time: time, measurement: measurement)
        if !nameOverride.isEmpty {
            for i in result.points.indices { result.points[i].name = nameOverride }
        }
        return result
    }
}
