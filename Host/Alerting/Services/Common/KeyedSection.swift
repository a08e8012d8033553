import Engine
import TockModel

/// The section PagerDuty v1 and v2 share (Kapacitor's services/pagerduty and services/pagerduty2 `Config`):
/// `enabled`, `url` (its default, never empty), the service's secret key (`service-key` or `routing-key`, redacted
/// when shown) and `global`.
public struct KeyedSection: Sendable, Hashable {
    public var enabled = false
    public var url: String
    public var key = ""
    public var global = false
    /// Kapacitor's own API address, sent as `client_url` (Kapacitor sends its HTTP service's URL).
    public var clientURL: String { KapacitorURL.current }
    let section: String
    let keyName: String

    init(_ elements: [ConfigTable], section: String, keyName: String, defaultURL: String) throws(ConfigError) {
        self.section = section
        self.keyName = keyName
        url = defaultURL
        guard let table = elements.first else { return }
        var r = ConfigReader(table, section: section)
        enabled = try r.bool("enabled")
        url = try r.string("url", default: defaultURL)
        key = try r.string(keyName)
        global = try r.bool("global")
        try r.finish()
        if url.isEmpty { throw ConfigError("[\(section)] url cannot be empty") }
        try ServiceSupport.checkURL(url, key: "url", section: section)
    }

    var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "url": .string(url), keyName: ServiceSupport.redacted(key), "global": .bool(global)]]
    }

    func globalHandlers(kind: String) -> [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: kind)] : [] }

    /// The key a handler uses: its own option, or the section's.
    func handlerKey(_ r: inout OptionReader) throws(HandlerOptionError) -> String {
        let own = try r.string(keyName) ?? ""
        return own.isEmpty ? key : own
    }

    /// Refuses a handler while the section is off.
    func checkEnabled() throws(HandlerOptionError) {
        guard enabled else { throw ServiceSupport.notEnabled(section) }
    }
}
