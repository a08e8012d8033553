import Engine
import TockModel

/// A JSON document spelled byte for byte as Go's `encoding/json` spells the bodies Kapacitor's services send:
/// struct fields in declaration order (``object(_:)``), map keys sorted (``map(_:)``), HTML-sensitive characters
/// escaped, and, for `json.NewEncoder(w).Encode(v)`, a trailing newline (``encoderBytes``).
indirect enum JSONBody: Sendable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null
    /// Already-encoded JSON (a series result).
    case raw(String)
    case array([JSONBody])
    /// A Go struct: fields in the order given.
    case object([(String, JSONBody)])
    /// A Go map: keys sorted.
    case map([String: JSONBody])

    /// `json.Marshal(v)`.
    var text: String {
        var out = ""
        append(to: &out)
        return out
    }

    /// `json.NewEncoder(w).Encode(v)`: the text and a newline.
    var encoderBytes: [UInt8] { Array((text + "\n").utf8) }

    /// A list of strings, or `null` when empty (Go's nil slice).
    static func strings(_ items: [String]) -> JSONBody { items.isEmpty ? .null : .array(items.map(JSONBody.string)) }

    /// A map of strings.
    static func stringMap(_ m: [String: String]) -> JSONBody { .map(m.mapValues(JSONBody.string)) }

    private func append(to out: inout String) {
        switch self {
        case .string(let s): GoJSON.appendString(s, to: &out)
        case .int(let i): out += String(i)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .raw(let r): out += r
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.append(to: &out)
            }
            out += "]"
        case .object(let fields):
            Self.appendFields(fields, to: &out)
        case .map(let m):
            Self.appendFields(m.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, to: &out)
        }
    }

    private static func appendFields(_ fields: [(String, JSONBody)], to out: inout String) {
        out += "{"
        for (i, (k, v)) in fields.enumerated() {
            if i > 0 { out += "," }
            GoJSON.appendString(k, to: &out)
            out += ":"
            v.append(to: &out)
        }
        out += "}"
    }
}

/// Kapacitor's alert event fields as its services read them.
extension AlertEvent {
    /// `event.Data.Result` as Go encodes `models.Result`: `{"series":[…]}`.
    var resultJSON: String { Series.result([data]) }

    /// Seconds since the epoch (`t.Unix()`).
    var unixSeconds: Int64 {
        let (q, r) = time.quotientAndRemainder(dividingBy: 1_000_000_000)
        return r < 0 ? q - 1 : q
    }

    /// Go's `time.RFC3339` (whole seconds, UTC): `2026-11-22T00:24:18Z`.
    var rfc3339: String { RFC3339Nano.format(unixSeconds * 1_000_000_000) }

    /// Go's `2006-01-02T15:04:05.000000000Z07:00` in UTC: always nine fraction digits.
    var rfc3339NineDigits: String {
        let seconds = RFC3339Nano.format(unixSeconds * 1_000_000_000).dropLast()
        let frac = String(time - unixSeconds * 1_000_000_000)
        return seconds + "." + String(repeating: "0", count: 9 - frac.count) + frac + "Z"
    }
}
