import Engine
import TockModel

/// `.log(path)` / topic handler kind `log`: appends each event's JSON line to a file (Kapacitor's
/// services/alert/handlers.go `LogHandlerConfig`: `path`, absolute; `mode`, default 0600). No kapacitor.conf section.
public struct LogService: AlertServiceKind {
    public static let kind = "log"
    public static let section = ConfigSectionSpec.none

    public init(elements: [ConfigTable]) throws(ConfigError) {}

    public var elements: [ConfigTable] { [] }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let path = try r.string("path") ?? ""
        guard path.hasPrefix("/") else {
            throw HandlerOptionError("alert log path must be absolute: \(path.isEmpty ? "\"\"" : path) is not absolute", option: "path")
        }
        var mode: UInt32 = 0o600
        if let m = try r.int("mode") {
            guard (0...0o7777).contains(m) else {
                throw HandlerOptionError("invalid file mode \(m) in .mode(): give an octal mode between 0 and 07777, such as 0644",
                                         option: "mode")
            }
            if m != 0 { mode = UInt32(m) }
        }
        try r.finish()
        return LogSender(file: LogFile(path: path, mode: mode))
    }
}

/// Appends the JSON line, opening the file for every event as Kapacitor does (it can be rotated underneath).
struct LogSender: AlertSender {
    let file: LogFile

    var description: String { "log \(file.path)" }

    /// A file that cannot be opened or written is retried: a full disk or a directory being created may clear.
    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let body = event.jsonLine
        let file = file
        let error: String? = await offload {
            do { try file.append(body) } catch { return "\(error)" }
            return nil
        }
        if let error { throw .retryable(error) }
    }
}
