import Engine
import Foundation
import TockModel

/// `bigpanda`: alerts to BigPanda's Alerts REST API (Kapacitor: services/bigpanda, with the handler options and
/// `auto-attributes` of Kapacitor 1.6.3).
public struct BigPandaService: AlertServiceKind {
    public static let kind = "bigpanda"
    public static let section = ConfigSectionSpec("bigpanda", redacted: ["token"])

    public let enabled: Bool
    public let global: Bool
    /// The integration's app key (a handler's `app-key` replaces it).
    public let appKey: String
    /// The bearer token.
    public let token: String
    public let stateChangesOnly: Bool
    public let insecureSkipVerify: Bool
    public let url: String
    /// Which of the point's `tags` and `fields` become alert attributes: `"tags,fields"` by default.
    public let autoAttributes: String

    public init(elements: [ConfigTable]) throws(ConfigError) {
        var r = ConfigReader(elements.first ?? [:], section: "bigpanda")
        enabled = try r.bool("enabled")
        global = try r.bool("global")
        appKey = try r.string("app-key")
        token = try r.string("token")
        stateChangesOnly = try r.bool("state-changes-only")
        insecureSkipVerify = try r.bool("insecure-skip-verify")
        url = try r.string("url", default: "https://api.bigpanda.io/data/v2/alerts")
        autoAttributes = try r.string("auto-attributes", default: "tags,fields")
        try r.finish()
        if enabled && url.isEmpty { throw ConfigError("[bigpanda] must specify the BigPanda webhook URL") }
        if enabled && appKey.isEmpty { throw ConfigError("[bigpanda] must specify BigPanda app-key") }
        if enabled && token.isEmpty { throw ConfigError("[bigpanda] must specify BigPanda token") }
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "global": .bool(global), "app-key": .string(appKey), "token": .bool(!token.isEmpty),
          "state-changes-only": .bool(stateChangesOnly), "insecure-skip-verify": .bool(insecureSkipVerify),
          "url": .string(url), "auto-attributes": .string(autoAttributes)]]
    }

    public var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }

    public var globalStateChangesOnly: Bool { global && stateChangesOnly }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let appKey = try r.string("app-key") ?? ""
        let primary = try r.string("primary-property") ?? ""
        let secondary = try r.string("secondary-property") ?? ""
        let host = try r.string("host") ?? ""
        let attributes = try r.stringMap("attributes") ?? [:]
        try r.finish()
        guard enabled else { throw IncidentSupport.notEnabled("bigpanda") }
        let data = EventTemplate.Data.fields(
            typeName: "bigpanda.templateData",
            ["ID", "Message", "Level", "Time", "Duration", "Details", "Name", "TaskName", "Group", "Tags", "Fields"])
        var attributeTemplates: [(String, EventTemplate)] = []
        for (key, text) in attributes.sorted(by: { $0.key < $1.key }) {
            attributeTemplates.append((key, try .option(text, name: "attributes." + key, data: data, kind: Self.kind)))
        }
        let auto = Set(autoAttributes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        return BigPandaSender(
            url: url, token: token, insecure: insecureSkipVerify, appKey: appKey.isEmpty ? self.appKey : appKey,
            primaryProperty: primary, secondaryProperty: secondary,
            host: host.isEmpty ? nil : try .option(host, name: "host", data: data, kind: Self.kind),
            attributes: attributeTemplates, includeTags: auto.contains("tags"), includeFields: auto.contains("fields"))
    }
}
