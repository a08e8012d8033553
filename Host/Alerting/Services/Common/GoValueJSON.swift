import Engine
import Foundation
import TockModel

/// A JSON document spelled byte for byte as Go's `encoding/json` spells the bodies Kapacitor's services send:
/// maps with their keys sorted (``object(_:)``), structs in field order (``fields(_:)``), floats in Go's shortest
/// form, HTML-sensitive characters escaped, and for `json.NewEncoder(w).Encode(v)` a trailing newline
/// (``encodedLine``).
indirect enum GoValueJSON: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case null
    case array([GoValueJSON])
    /// A map: written with its keys sorted.
    case object([String: GoValueJSON])
    /// A struct: written in field order, as declared.
    case fields([(String, GoValueJSON)])
    /// Already-encoded JSON (the alert's `data`).
    case raw(String)

    static func == (a: GoValueJSON, b: GoValueJSON) -> Bool { a.encoded == b.encoded }
    func hash(into hasher: inout Hasher) { hasher.combine(encoded) }

    init(_ field: FieldValue) {
        switch field {
        case .double(let d): self = .float(d)
        case .int(let i): self = .int(i)
        case .uint(let u): self = u <= UInt64(Int64.max) ? .int(Int64(u)) : .float(Double(u))
        case .string(let s): self = .string(s)
        case .bool(let b): self = .bool(b)
        }
    }

    init(_ option: HandlerOption) {
        switch option {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(i)
        case .float(let f): self = .float(f)
        case .bool(let b): self = .bool(b)
        case .duration(let d): self = .int(d)
        case .list(let items): self = .array(items.map(GoValueJSON.init))
        case .object(let o): self = .object(o.mapValues(GoValueJSON.init))
        }
    }

    /// A list of strings, or `null` for Go's nil slice.
    static func strings(_ items: [String]?) -> GoValueJSON {
        guard let items else { return .null }
        return .array(items.map { .string($0) })
    }

    /// A `map[string]string`.
    static func stringMap(_ m: [String: String]) -> GoValueJSON { .object(m.mapValues { .string($0) }) }

    /// `json.Marshal`'s output.
    var encoded: String {
        var out = ""
        append(to: &out)
        return out
    }

    /// `json.NewEncoder(w).Encode`'s output: the value and a newline.
    var encodedLine: [UInt8] { Array((encoded + "\n").utf8) }

    func append(to out: inout String) {
        switch self {
        case .string(let s): GoJSON.appendString(s, to: &out)
        case .int(let i): out += String(i)
        case .float(let f): out += GoJSON.float(f)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .raw(let json): out += json
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.append(to: &out)
            }
            out += "]"
        case .object(let map):
            Self.appendMembers(map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: &out)
        case .fields(let members):
            Self.appendMembers(members, to: &out)
        }
    }

    private static func appendMembers(_ members: [(String, GoValueJSON)], to out: inout String) {
        out += "{"
        for (i, (key, value)) in members.enumerated() {
            if i > 0 { out += "," }
            GoJSON.appendString(key, to: &out)
            out += ":"
            value.append(to: &out)
        }
        out += "}"
    }

    /// Parses JSON text as Go's `json.Unmarshal` into `interface{}` does (numbers become float64), or `nil`.
    static func parse(_ text: String) -> GoValueJSON? {
        try? JSONDecoder().decode(Decoded.self, from: Data(text.utf8)).value
    }

    private struct Decoded: Decodable {
        var value: GoValueJSON

        init(from decoder: any Decoder) throws {
            if var list = try? decoder.unkeyedContainer() {
                var items: [GoValueJSON] = []
                while !list.isAtEnd { items.append(try list.decode(Decoded.self).value) }
                value = .array(items)
                return
            }
            if let object = try? decoder.container(keyedBy: AnyKey.self) {
                var map: [String: GoValueJSON] = [:]
                for key in object.allKeys { map[key.stringValue] = try object.decode(Decoded.self, forKey: key).value }
                value = .object(map)
                return
            }
            let single = try decoder.singleValueContainer()
            if single.decodeNil() { value = .null }
            else if let b = try? single.decode(Bool.self) { value = .bool(b) }
            else if let d = try? single.decode(Double.self) { value = .float(d) }
            else { value = .string(try single.decode(String.self)) }
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension String {
    /// The first `max` bytes, as Go's `text[:max]` cuts a string (a split character becomes U+FFFD when encoded).
    func goPrefix(bytes max: Int) -> String {
        let utf8 = Array(self.utf8)
        guard utf8.count > max else { return self }
        return String(decoding: utf8.prefix(max), as: UTF8.self)
    }
}
