// TEMPORARY: stand-ins for engine-core's ShimJSON/ShimFloat (Host/Engine/Output) and ShimRFC3339
// (Host/Model/Time.swift) until they land on main. Deleted at the merge.
import TockModel

enum ShimJSON {
    static func appendString(_ s: String, to out: inout String) {
        out.append("\"")
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        out.append("\"")
    }

    static func string(_ s: String) -> String {
        var out = ""
        appendString(s, to: &out)
        return out
    }

    static func float(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        let a = abs(v)
        if a != 0 && (a < 1e-6 || a >= 1e21) { return ShimFloat.exponent(v, minExponentDigits: 1) }
        return ShimFloat.plain(v)
    }

    static func appendField(_ v: FieldValue, to out: inout String) {
        switch v {
        case .double(let d): out += float(d)
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .string(let s): appendString(s, to: &out)
        case .bool(let b): out += b ? "true" : "false"
        }
    }
}

enum ShimFloat {
    static func digits(_ v: Double) -> (digits: [UInt8], exponent: Int) {
        let text = Array(abs(v).description.utf8)
        var digits: [UInt8] = []
        var pointAt: Int? = nil
        var exp = 0
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == UInt8(ascii: ".") {
                pointAt = digits.count
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                exp = Int(String(decoding: text[(i + 1)...], as: UTF8.self)) ?? 0
                break
            } else {
                digits.append(c - 48)
            }
            i += 1
        }
        var point = (pointAt ?? digits.count) + exp
        while digits.count > 1, digits.first == 0 { digits.removeFirst(); point -= 1 }
        while digits.count > 1, digits.last == 0 { digits.removeLast() }
        if digits == [0] { point = 1 }
        return (digits, point)
    }

    static func plain(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "+Inf" : "-Inf") }
        let (d, point) = digits(v)
        var s = v.sign == .minus && v != 0 ? "-" : ""
        if point <= 0 {
            s += "0." + String(repeating: "0", count: -point) + d.map { String($0) }.joined()
        } else if point >= d.count {
            s += d.map { String($0) }.joined() + String(repeating: "0", count: point - d.count)
        } else {
            s += d[..<point].map { String($0) }.joined() + "." + d[point...].map { String($0) }.joined()
        }
        return s
    }

    static func exponent(_ v: Double, minExponentDigits: Int = 2) -> String {
        let (d, point) = digits(v)
        var s = v.sign == .minus ? "-" : ""
        s += String(d[0])
        if d.count > 1 { s += "." + d[1...].map { String($0) }.joined() }
        let e = point - 1
        s += e < 0 ? "e-" : "e+"
        let ed = String(abs(e))
        s += String(repeating: "0", count: max(0, minExponentDigits - ed.count)) + ed
        return s
    }
}

enum ShimRFC3339 {
    static func format(_ t: Timestamp) -> String {
        let (days, nsOfDay) = floorDivMod(t, 86_400 * GoDuration.second)
        let (y, m, d) = civil(fromDays: days)
        let sec = nsOfDay / GoDuration.second
        let frac = nsOfDay % GoDuration.second
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        var s = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(sec / 3600, 2)):\(pad((sec / 60) % 60, 2)):\(pad(sec % 60, 2))"
        if frac != 0 {
            var digits = pad(frac, 9)
            while digits.last == "0" { digits.removeLast() }
            s += "." + digits
        }
        return s + "Z"
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }
}

/// TEMPORARY: Kapacitor's `models.Result` of a point or batch (`{"series":[{name,tags,columns,values}]}`)
/// until engine-core's Series encoder lands.
enum AlertSeries {
    static func appendResult(_ message: Message, to out: inout String) {
        out += "{\"series\":[{"
        var parts: [String] = []
        let name: String, tags: Tags, columns: [String], rows: [(Timestamp, [FieldValue?])]
        switch message {
        case .point(let p):
            name = p.name
            tags = p.tags
            columns = p.fields.sortedKeys
            rows = [(p.time, p.fields.map { Optional($0.value) })]
        case .batch(let b):
            name = b.name
            tags = b.tags
            if let first = b.points.first {
                columns = (first.fields.sortedKeys + first.tags.sortedKeys.filter { b.tags[$0] == nil }).sorted()
            } else {
                columns = []
            }
            rows = b.points.map { bp in
                (bp.time, columns.map { c in bp.fields[c] ?? bp.tags[c].map { FieldValue.string($0) } })
            }
        }
        if !name.isEmpty { parts.append("\"name\":" + ShimJSON.string(name)) }
        if !tags.isEmpty {
            parts.append("\"tags\":{" + tags.map { ShimJSON.string($0.key) + ":" + ShimJSON.string($0.value) }.joined(separator: ",") + "}")
        }
        if !rows.isEmpty {
            parts.append("\"columns\":[" + (["time"] + columns).map { ShimJSON.string($0) }.joined(separator: ",") + "]")
            var values = "\"values\":["
            for (i, row) in rows.enumerated() {
                if i > 0 { values += "," }
                values += "[\"" + ShimRFC3339.format(row.0) + "\""
                for v in row.1 {
                    values += ","
                    if let v { ShimJSON.appendField(v, to: &values) } else { values += "null" }
                }
                values += "]"
            }
            parts.append(values + "]")
        }
        out += parts.joined(separator: ",")
        out += "}]}"
    }
}
