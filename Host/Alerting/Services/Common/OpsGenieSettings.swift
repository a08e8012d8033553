import Engine
import TockModel

/// The keys `[opsgenie]` and `[opsgenie2]` share (Kapacitor's services/opsgenie and services/opsgenie2 `Config`):
/// `enabled`, `api-key` (required when enabled, redacted when shown), the default `teams` and `recipients`, `url`
/// (its default, never empty) and `global`. Each version reads its own recovery key beside them.
public struct OpsGenieSettings: Sendable, Hashable {
    public var enabled = false
    public var apiKey = ""
    public var teams: [String] = []
    public var recipients: [String] = []
    public var url: String
    public var global = false
    let section: String

    init(section: String, defaultURL: String) {
        self.section = section
        url = defaultURL
    }

    /// Reads the shared keys from `r`; the caller reads its own and calls `r.finish()`, then ``check()``.
    init(_ r: inout ConfigReader, section: String, defaultURL: String) throws(ConfigError) {
        self.init(section: section, defaultURL: defaultURL)
        enabled = try r.bool("enabled")
        apiKey = try r.string("api-key")
        teams = try r.strings("teams")
        recipients = try r.strings("recipients")
        url = try r.string("url", default: defaultURL)
        global = try r.bool("global")
    }

    func check() throws(ConfigError) {
        if url.isEmpty { throw ConfigError("[\(section)] url cannot be empty") }
        try ServiceSupport.checkURL(url, key: "url", section: section)
        if enabled && apiKey.isEmpty { throw ConfigError("[\(section)] api-key cannot be empty") }
    }

    /// The shared keys as `GET /kapacitor/v1/config` shows them.
    var table: ConfigTable {
        ["enabled": .bool(enabled), "api-key": ServiceSupport.redacted(apiKey), "teams": .array(teams.map(ConfigValue.string)),
         "recipients": .array(recipients.map(ConfigValue.string)), "url": .string(url), "global": .bool(global)]
    }

    func globalHandlers(kind: String) -> [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: kind)] : [] }

    /// A handler's `teams-list` and `recipients-list`, each the section's when the handler gives none; refuses the
    /// handler while the section is off.
    func responders(_ options: [String: HandlerOption], kind: String) throws(HandlerOptionError) -> (teams: [String], recipients: [String]) {
        var r = OptionReader(options, kind: kind)
        let t = try r.strings("teams-list") ?? []
        let p = try r.strings("recipients-list") ?? []
        try r.finish()
        guard enabled else { throw ServiceSupport.notEnabled(section) }
        return (t.isEmpty ? teams : t, p.isEmpty ? recipients : p)
    }
}
