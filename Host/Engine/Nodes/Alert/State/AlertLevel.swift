/// An alert's severity, ordered as Kapacitor orders it: `OK < INFO < WARNING < CRITICAL`.
public enum AlertLevel: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case ok = 0
    case info = 1
    case warning = 2
    case critical = 3

    /// Kapacitor's spelling: `OK`, `INFO`, `WARNING`, `CRITICAL`.
    public var description: String {
        switch self {
        case .ok: "OK"
        case .info: "INFO"
        case .warning: "WARNING"
        case .critical: "CRITICAL"
        }
    }

    public static func < (a: AlertLevel, b: AlertLevel) -> Bool { a.rawValue < b.rawValue }
}
