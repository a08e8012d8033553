import LineProtocol
import TockModel

/// Telegraf's input data formats (`data_format`), turning a program's output into points.
public enum DataFormat: String, Sendable, Hashable, CaseIterable {
    /// InfluxDB line protocol (Telegraf's default).
    case influx
    /// Prometheus' text exposition format, as Telegraf's `prometheus` parser (metric_version 1) reads it.
    case prometheus

    /// Reads the `data_format` option (default `influx`), refusing the formats Tock does not read.
    static func option(_ options: inout CollectorOptions) throws(CollectorError) -> DataFormat {
        let name = try options.string("data_format", default: "influx")
        guard let format = DataFormat(rawValue: name) else {
            throw CollectorError(options.collector, "data_format \"\(name)\" is not supported (supported: influx, prometheus)")
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
        }
    }
}
