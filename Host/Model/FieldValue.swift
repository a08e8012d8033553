/// The value of one field: InfluxDB's five field types.
public enum FieldValue: Sendable, Hashable {
    case double(Double)
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case bool(Bool)

    /// The value as a `Double` when it is numeric (float, integer or unsigned).
    @inlinable
    public var numeric: Double? {
        switch self {
        case .double(let v): return v
        case .int(let v): return Double(v)
        case .uint(let v): return Double(v)
        case .string, .bool: return nil
        }
    }

    /// The InfluxQL name of the type: `float`, `integer`, `unsigned`, `string` or `boolean`.
    public var typeName: String {
        switch self {
        case .double: return "float"
        case .int: return "integer"
        case .uint: return "unsigned"
        case .string: return "string"
        case .bool: return "boolean"
        }
    }
}
