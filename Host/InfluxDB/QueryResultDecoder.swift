import Engine
import Foundation
import NIOCore
import TockModel

/// Reads InfluxDB 1.x's `/query` JSON (`{"results":[{"statement_id":0,"series":[…]}]}`) into ``QuerySeries``.
///
/// Cells are read as Kapacitor reads them with `json.Number`: every number becomes `.double`, except in the
/// `time` column, which `epoch=ns` makes whole nanoseconds and which stays `.int`. Strings, booleans and `null`
/// are kept as they are.
enum QueryResultDecoder {
    enum Failure: Error {
        /// InfluxDB's `error`, at the HTTP status (0 for an error in a 200 answer's result).
        case rejected(status: Int, text: String)
        case malformed(String)
    }

    static func decode(_ body: ByteBuffer, status: Int) throws(Failure) -> [QuerySeries] {
        let data = Data(body.readableBytesView)
        let response: Response
        do {
            response = try JSONDecoder().decode(Response.self, from: data)
        } catch {
            if status / 100 != 2 {
                throw .rejected(status: status, text: InfluxDBCluster.errorText(body).isEmpty ? "HTTP \(status)" : InfluxDBCluster.errorText(body))
            }
            throw .malformed("\(error)")
        }
        if let error = response.error { throw .rejected(status: status / 100 == 2 ? 0 : status, text: error) }
        guard status / 100 == 2 else { throw .rejected(status: status, text: "HTTP \(status)") }
        guard let result = response.results?.first else { return [] }
        if let error = result.error { throw .rejected(status: 0, text: error) }
        return (result.series ?? []).map { series in
            let timeIndex = series.columns?.firstIndex(of: "time")
            let values = (series.values ?? []).map { row in
                row.enumerated().map { i, cell in cell.value(isTime: i == timeIndex) }
            }
            return QuerySeries(name: series.name ?? "", tags: series.tags ?? [:], columns: series.columns ?? [], values: values)
        }
    }

    struct Response: Decodable {
        var results: [Result]?
        var error: String?
    }

    struct Result: Decodable {
        var series: [Series]?
        var error: String?
    }

    struct Series: Decodable {
        var name: String?
        var tags: [String: String]?
        var columns: [String]?
        var values: [[Cell]]?
    }

    enum Cell: Decodable {
        case null
        case bool(Bool)
        case integer(Int64)
        case number(Double)
        case string(String)

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                self = .null
            } else if let b = try? c.decode(Bool.self) {
                self = .bool(b)
            } else if let i = try? c.decode(Int64.self) {
                self = .integer(i)
            } else if let d = try? c.decode(Double.self) {
                self = .number(d)
            } else if let s = try? c.decode(String.self) {
                self = .string(s)
            } else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "a cell must be a number, string, boolean or null")
            }
        }

        func value(isTime: Bool) -> FieldValue? {
            switch self {
            case .null: return nil
            case .bool(let b): return .bool(b)
            case .integer(let i): return isTime ? .int(i) : .double(Double(i))
            case .number(let d): return isTime && d.rounded() == d && abs(d) < 9.2e18 ? .int(Int64(d)) : .double(d)
            case .string(let s): return .string(s)
            }
        }
    }
}
