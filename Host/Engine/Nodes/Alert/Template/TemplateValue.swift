import TockModel

/// A value seen by an alert template, typed as Kapacitor's Go values are so it prints the same way.
indirect enum TemplateValue: Sendable {
    case null
    case string(String)
    case int(Int64)
    case uint(UInt64)
    case float(Double)
    case bool(Bool)
    /// Go `time.Duration`, nanoseconds.
    case duration(Int64)
    /// Go `time.Time` in UTC, nanoseconds since the epoch.
    case time(Timestamp)
    /// `map[string]string` (tags), keys sorted.
    case stringMap([(key: String, value: String)])
    /// `map[string]interface{}` (fields), keys sorted.
    case anyMap([(key: String, value: TemplateValue)])
    /// A Go struct: its type name and its fields in declaration order.
    case record(typeName: String, [(name: String, value: TemplateValue)])
    /// A Go slice (`[]map[string]interface{}`: the rows of httpPost's row template).
    case list(elementType: String, [TemplateValue])
    /// A Go struct whose `encoding/json` form uses its tags (`alert.Data`, `models.Result`): read as `value`,
    /// written by `json` as `json`.
    case tagged(TemplateValue, json: String)

    init(_ field: FieldValue) {
        switch field {
        case .double(let d): self = .float(d)
        case .int(let i): self = .int(i)
        case .uint(let u): self = .uint(u)
        case .string(let s): self = .string(s)
        case .bool(let b): self = .bool(b)
        }
    }

    /// Go's name of the value's type, as `%!d(float64=1.5)` shows it.
    var goTypeName: String {
        switch self {
        case .null: "<nil>"
        case .string: "string"
        case .int: "int64"
        case .uint: "uint64"
        case .float: "float64"
        case .bool: "bool"
        case .duration: "time.Duration"
        case .time: "time.Time"
        case .stringMap: "map[string]string"
        case .anyMap: "map[string]interface {}"
        case .record(let name, _): name
        case .list(let element, _): "[]" + element
        case .tagged(let v, _): v.goTypeName
        }
    }

    /// Go's truth: false, 0, nil, "" and empty maps are false; structs and times are true.
    var isTruthy: Bool {
        switch self {
        case .null: false
        case .string(let s): !s.isEmpty
        case .int(let i): i != 0
        case .uint(let u): u != 0
        case .float(let f): f != 0
        case .bool(let b): b
        case .duration(let d): d != 0
        case .time, .record: true
        case .stringMap(let m): !m.isEmpty
        case .anyMap(let m): !m.isEmpty
        case .list(_, let items): !items.isEmpty
        case .tagged(let v, _): v.isTruthy
        }
    }

    /// As Go's `fmt` prints the value with `%v` (`<nil>` for nil).
    var goString: String {
        switch self {
        case .null: "<nil>"
        case .string(let s): s
        case .int(let i): String(i)
        case .uint(let u): String(u)
        case .float(let f): GoFormat.floatV(f)
        case .bool(let b): b ? "true" : "false"
        case .duration(let d): GoDuration.format(d)
        case .time(let t): GoFormat.timeString(t)
        case .stringMap(let m): "map[" + m.map { "\($0.key):\($0.value)" }.joined(separator: " ") + "]"
        case .anyMap(let m): "map[" + m.map { "\($0.key):\($0.value.goString)" }.joined(separator: " ") + "]"
        case .record(_, let fields): "{" + fields.map(\.value.goString).joined(separator: " ") + "}"
        case .list(_, let items): "[" + items.map(\.goString).joined(separator: " ") + "]"
        case .tagged(let v, _): v.goString
        }
    }

    /// As Go's `encoding/json` writes the value.
    func appendJSON(to out: inout String) {
        switch self {
        case .tagged(_, let json): out += json
        case .null: out += "null"
        case .string(let s): GoJSON.appendString(s, to: &out)
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .float(let f): out += GoJSON.float(f)
        case .bool(let b): out += b ? "true" : "false"
        case .duration(let d): out += String(d)
        case .time(let t): GoJSON.appendString(RFC3339Nano.format(t), to: &out)
        case .stringMap(let m):
            out += "{"
            for (i, kv) in m.enumerated() {
                if i > 0 { out += "," }
                GoJSON.appendString(kv.key, to: &out)
                out += ":"
                GoJSON.appendString(kv.value, to: &out)
            }
            out += "}"
        case .anyMap(let m):
            out += "{"
            for (i, kv) in m.enumerated() {
                if i > 0 { out += "," }
                GoJSON.appendString(kv.key, to: &out)
                out += ":"
                kv.value.appendJSON(to: &out)
            }
            out += "}"
        case .record(_, let fields):
            out += "{"
            for (i, f) in fields.enumerated() {
                if i > 0 { out += "," }
                GoJSON.appendString(f.name, to: &out)
                out += ":"
                f.value.appendJSON(to: &out)
            }
            out += "}"
        case .list(_, let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.appendJSON(to: &out)
            }
            out += "]"
        }
    }

    /// A field or map key of this value, or a method without arguments (`.Time.Unix`), as Go's
    /// templates resolve `.X` on it.
    func member(_ name: String) -> TemplateValue? {
        switch self {
        case .tagged(let v, _):
            return v.member(name)
        case .record(_, let fields):
            return fields.first { $0.name == name }?.value
        case .stringMap(let m):
            return .string(m.first { $0.key == name }?.value ?? "")
        case .anyMap(let m):
            return m.first { $0.key == name }?.value ?? .null
        case .time(let t):
            let (days, nsOfDay) = RFC3339Nano.floorDivMod(t, 86_400 * GoDuration.second)
            let civil = RFC3339Nano.civil(fromDays: days)
            let seconds = nsOfDay / GoDuration.second
            switch name {
            case "Unix": return .int(RFC3339Nano.floorDivMod(t, GoDuration.second).0)
            case "UnixNano": return .int(t)
            case "UnixMilli": return .int(RFC3339Nano.floorDivMod(t, GoDuration.millisecond).0)
            case "UTC", "Local": return .time(t)
            case "String": return .string(GoFormat.timeString(t))
            case "Year": return .int(civil.year)
            case "Day": return .int(civil.day)
            case "Hour": return .int(seconds / 3600)
            case "Minute": return .int((seconds / 60) % 60)
            case "Second": return .int(seconds % 60)
            case "Nanosecond": return .int(nsOfDay % GoDuration.second)
            default: return nil
            }
        case .duration(let d):
            switch name {
            case "Nanoseconds": return .int(d)
            case "Microseconds": return .int(d / GoDuration.microsecond)
            case "Milliseconds": return .int(d / GoDuration.millisecond)
            case "Seconds": return .float(Double(d) / Double(GoDuration.second))
            case "Minutes": return .float(Double(d) / Double(GoDuration.minute))
            case "Hours": return .float(Double(d) / Double(GoDuration.hour))
            case "String": return .string(GoDuration.format(d))
            default: return nil
            }
        default:
            return nil
        }
    }
}
