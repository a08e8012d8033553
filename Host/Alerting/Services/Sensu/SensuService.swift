import Engine
import TockModel

/// `sensu`: a check result written as one JSON line to a Sensu client's TCP socket (Kapacitor: services/sensu).
public struct SensuService: AlertServiceKind {
    public static let kind = "sensu"
    public static let section = ConfigSectionSpec("sensu")

    public let enabled: Bool
    /// The Sensu client's `host:port`.
    public let addr: String
    /// The JIT source; `Kapacitor` by default.
    public let source: String
    /// The Sensu handlers; `nil` when the configuration names none (sent as `null`, as Kapacitor does).
    public let handlers: [String]?

    public init(elements: [ConfigTable]) throws(ConfigError) {
        let table = elements.first ?? [:]
        var r = ConfigReader(table, section: "sensu")
        enabled = try r.bool("enabled")
        addr = try r.string("addr")
        source = try r.string("source", default: "Kapacitor")
        let handlers = try r.strings("handlers")
        self.handlers = table["handlers"] == nil ? nil : handlers
        try r.finish()
        if enabled && addr.isEmpty { throw ConfigError("[sensu] must specify client address") }
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "addr": .string(addr), "source": .string(source),
          "handlers": .array((handlers ?? []).map { .string($0) })]]
    }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let source = try r.string("source") ?? ""
        let handlers = try r.strings("handlers") ?? []
        let metadata = r.value("metadata")
        try r.finish()
        var meta: [String: GoValueJSON] = [:]
        if let metadata {
            guard case .object(let entries) = metadata else {
                throw HandlerOptionError("sensu option metadata must be a map of keys to values", option: "metadata")
            }
            meta = entries.mapValues(GoValueJSON.init)
        }
        guard enabled else { throw IncidentSupport.notEnabled("sensu") }
        return SensuSender(
            addr: addr, source: try .option(source, name: "source", data: .templateData, kind: Self.kind),
            defaultSource: self.source, handlers: handlers.isEmpty ? self.handlers : handlers, metadata: meta)
    }
}
