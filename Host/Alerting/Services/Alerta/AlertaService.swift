import Engine
import Foundation
import TockModel

/// `alerta`: raises Alerta alerts with `POST <url>/alert` (Kapacitor: services/alerta).
public struct AlertaService: AlertServiceKind {
    public static let kind = "alerta"
    public static let section = ConfigSectionSpec("alerta", redacted: ["token"])

    public let enabled: Bool
    /// The Alerta API base URL; alerts go to `<url>/alert`.
    public let url: String
    public let insecureSkipVerify: Bool
    public let token: String
    /// Empty means `Bearer`.
    public let tokenPrefix: String
    public let environment: String
    public let origin: String
    /// The alert's `timeout` when a handler gives none (nanoseconds; 24h).
    public let timeout: Int64

    public init(elements: [ConfigTable]) throws(ConfigError) {
        var r = ConfigReader(elements.first ?? [:], section: "alerta")
        enabled = try r.bool("enabled")
        url = try r.string("url")
        insecureSkipVerify = try r.bool("insecure-skip-verify")
        token = try r.string("token")
        tokenPrefix = try r.string("token-prefix")
        environment = try r.string("environment")
        origin = try r.string("origin")
        timeout = try r.duration("timeout", default: 24 * 3600 * 1_000_000_000)
        try r.finish()
        if enabled && url.isEmpty { throw ConfigError("[alerta] must specify url") }
        if URLComponents(string: url) == nil { throw ConfigError("[alerta] invalid url \"\(url)\"") }
    }

    public var elements: [ConfigTable] {
        [[
            "enabled": .bool(enabled), "url": .string(url), "insecure-skip-verify": .bool(insecureSkipVerify),
            "token": .bool(!token.isEmpty), "token-prefix": .string(tokenPrefix), "environment": .string(environment),
            "origin": .string(origin), "timeout": .string(GoDuration.format(timeout)),
        ]]
    }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let token = try r.string("token") ?? ""
        let tokenPrefix = try r.string("token-prefix") ?? ""
        let resource = try r.string("resource") ?? "{{ .Name }}"
        let event = try r.string("event") ?? "{{ .ID }}"
        let environment = try r.string("environment") ?? ""
        let group = try r.string("group") ?? "{{ .Group }}"
        let value = try r.string("value") ?? ""
        let origin = try r.string("origin") ?? ""
        let services = try r.strings("service") ?? []
        let correlate = try r.strings("correlate") ?? []
        let timeout = try r.duration("timeout") ?? self.timeout
        try r.finish()
        guard enabled else { throw IncidentSupport.notEnabled("alerta") }

        let data = EventTemplate.Data.templateData
        return AlertaSender(
            url: url, insecure: insecureSkipVerify,
            token: token.isEmpty ? self.token : token,
            tokenPrefix: !tokenPrefix.isEmpty ? tokenPrefix : !self.tokenPrefix.isEmpty ? self.tokenPrefix : "Bearer",
            resource: try .option(resource, name: "resource", data: data, kind: Self.kind),
            event: try .option(event, name: "event", data: .fields(typeName: "alerta.eventData", ["ID", "Name", "TaskName", "Group", "Tags"]), kind: Self.kind),
            environment: try .option(environment, name: "environment", data: data, kind: Self.kind),
            defaultEnvironment: self.environment,
            group: try .option(group, name: "group", data: data, kind: Self.kind),
            value: try .option(value, name: "value", data: data, kind: Self.kind),
            origin: origin.isEmpty ? self.origin : origin,
            services: try services.map { s throws(HandlerOptionError) in try .option(s, name: "service", data: data, kind: Self.kind) },
            correlate: try correlate.map { s throws(HandlerOptionError) in try .option(s, name: "correlate", data: data, kind: Self.kind) },
            timeoutSeconds: timeout / 1_000_000_000)
    }
}
