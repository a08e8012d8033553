import Foundation
import TockModel

/// Telegraf's `json` input data format: a JSON object, or an array of objects, becomes one point per object.
///
/// As in Telegraf, nested objects and arrays are flattened into field names joined by `_` (`{"b": {"c": 6}}` is the
/// field `b_c`, `{"d": [1, 2]}` the fields `d_0` and `d_1`); every number is a float field; strings and booleans are
/// left out unless their key matches `tag_keys` (they become tags) or `json_string_fields` (they stay fields).
/// `json_query` (a GJSON path, with queries and modifiers: see ``GJSONPath``) picks the part of the document to read,
/// `json_name_key` the key naming the measurement, `json_time_key` and `json_time_format` (`unix`, `unix_ms`,
/// `unix_us`, `unix_ns` or a Go layout such as `2006-01-02T15:04:05Z07:00`, or a layout's name, `RFC3339`) the
/// point's time.
public struct TelegrafJSON: Sendable, Hashable {
    public var nameKey = ""
    public var tagKeys: [String] = []
    public var stringFields: [String] = []
    public var query = ""
    public var timeKey = ""
    public var timeFormat = ""
    /// For layouts without a zone: `UTC` (the default), `Local` or an IANA name.
    public var timezone = ""
    /// Whether one bad element of an array fails the whole document (Telegraf's `json_strict`, default true).
    public var strict = true

    public init() {}

    /// Reads the `json_*` and `tag_keys` options.
    static func options(_ o: inout CollectorOptions) throws(CollectorError) -> TelegrafJSON {
        var format = TelegrafJSON()
        format.nameKey = try o.string("json_name_key", default: "")
        format.tagKeys = try o.strings("tag_keys", default: [])
        format.stringFields = try o.strings("json_string_fields", default: [])
        format.query = try o.string("json_query", default: "")
        format.timeKey = try o.string("json_time_key", default: "")
        format.timeFormat = try o.string("json_time_format", default: "")
        format.timezone = try o.string("json_timezone", default: "")
        format.strict = try o.bool("json_strict", default: true)
        if let problem = GJSONPath.problem(format.query) { throw CollectorError(o.collector, "json_query \"\(format.query)\": \(problem)") }
        for pattern in format.tagKeys + format.stringFields {
            if let problem = Glob.problem(pattern) { throw CollectorError(o.collector, "bad pattern \"\(pattern)\": \(problem)") }
        }
        if !format.timeKey.isEmpty && format.timeFormat.isEmpty {
            throw CollectorError(o.collector, "use of 'json_time_key' requires 'json_time_format'")
        }
        if !format.timeFormat.isEmpty, !GoTime.isUnixFormat(format.timeFormat), GoTime.layout(named: format.timeFormat).isEmpty {
            throw CollectorError(o.collector, "json_time_format \"\(format.timeFormat)\" is not a layout")
        }
        if !format.timezone.isEmpty && GoTime.zone(format.timezone) == nil {
            throw CollectorError(o.collector, "json_timezone \"\(format.timezone)\" is not a time zone")
        }
        return format
    }

    /// The points of one JSON document, named `measurement` unless `json_name_key` names them; `time` stamps those
    /// without a `json_time_key`. Errors say what was wrong; a document that cannot be read gives no point.
    public func parse(_ bytes: [UInt8], time: Timestamp, measurement: String) -> (points: [Point], errors: [String]) {
        var data = bytes[...]
        if data.starts(with: [0xef, 0xbb, 0xbf]) { data = data.dropFirst(3) }
        while let first = data.first, first == 0x20 || first == 0x0a || first == 0x0d || first == 0x09 { data = data.dropFirst() }
        if data.isEmpty { return ([], []) }
        var document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: Data(data))
        } catch {
            return ([], ["unable to parse out as JSON: \(Self.describe(error))"])
        }
        if !query.isEmpty {
            guard let picked = GJSONPath.select(query, in: document) else {
                return ([], ["json_query \"\(query)\" matches nothing in the document"])
            }
            document = picked
        }
        switch document {
        case .object(let object):
            do { return (try point(object, time: time, measurement: measurement).map { [$0] } ?? [], []) } catch { return ([], [error.message]) }
        case .array(let elements):
            var points: [Point] = []
            var errors: [String] = []
            for (index, element) in elements.enumerated() {
                guard case .object(let object) = element else {
                    errors.append("element \(index) of the array is not an object")
                    continue
                }
                do { if let p = try point(object, time: time, measurement: measurement) { points.append(p) } } catch {
                    errors.append("element \(index): \(error.message)")
                }
            }
            return (strict && !errors.isEmpty ? [] : points, errors)
        default:
            return ([], ["the JSON document is neither an object nor an array of objects"])
        }
    }

    struct Failure: Error { var message: String }

    /// The point of one object; `nil` when it has nothing to make a field of (Telegraf drops such metrics).
    func point(_ object: [String: JSONValue], time: Timestamp, measurement: String) throws(Failure) -> Point? {
        var flat: [String: JSONValue] = [:]
        Self.flatten("", .object(object), into: &flat)
        var name = measurement
        if !nameKey.isEmpty, case .string(let value)? = flat[nameKey] { name = value }
        var stamp = time
        if !timeKey.isEmpty {
            guard let value = flat.removeValue(forKey: timeKey) else { throw Failure(message: "JSON time key could not be found") }
            let zone = timezone.isEmpty ? TimeZone(identifier: "UTC")! : (GoTime.zone(timezone) ?? TimeZone(identifier: "UTC")!)
            do { stamp = try GoTime.timestamp(value, format: timeFormat, zone: zone) } catch {
                throw Failure(message: "json_time_key \"\(timeKey)\": \(error.message)")
            }
        }
        var tags: [String: String] = [:]
        var fields: [String: FieldValue] = [:]
        for (key, value) in flat {
            if tagKeys.contains(where: { Glob.matches($0, key) }) {
                switch value {
                case .string(let s): tags[key] = s
                case .bool(let b): tags[key] = String(b)
                case .number(let d): tags[key] = Self.format(d)
                default: break
                }
                continue
            }
            switch value {
            case .number(let d): fields[key] = .double(d)
            case .string(let s) where stringFields.contains(where: { Glob.matches($0, key) }): fields[key] = .string(s)
            case .bool(let b) where stringFields.contains(where: { Glob.matches($0, key) }): fields[key] = .bool(b)
            default: break
            }
        }
        if fields.isEmpty { return nil }
        return Point(name: name, tags: Tags(tags), fields: Fields(fields), time: stamp)
    }

    /// Telegraf's `FullFlattenJSON`: keys joined by `_`, array elements by their index, nulls dropped.
    static func flatten(_ prefix: String, _ value: JSONValue, into flat: inout [String: JSONValue]) {
        switch value {
        case .object(let object):
            for (key, inner) in object { flatten(prefix.isEmpty ? key : prefix + "_" + key, inner, into: &flat) }
        case .array(let elements):
            for (index, inner) in elements.enumerated() { flatten(prefix.isEmpty ? String(index) : prefix + "_" + String(index), inner, into: &flat) }
        case .null:
            break
        default:
            flat[prefix] = value
        }
    }

    /// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest decimal, never in exponent form.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let text = String(value)
        guard text.contains("e") else { return text }
        return NSDecimalNumber(string: text).stringValue
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        return String(describing: error)
    }
}

/// A JSON value, with numbers and booleans kept apart.
public indirect enum JSONValue: Sendable, Hashable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let d = try? container.decode(Double.self) { self = .number(d) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }
}
