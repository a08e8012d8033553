/// How much a log line matters: the levels of Kapacitor's log (`[logging] level`).
public enum LogLevel: String, Sendable, Hashable, Comparable, CaseIterable {
    case debug = "DEBUG", info = "INFO", warning = "WARN", error = "ERROR"

    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warning: 2
        case .error: 3
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}
