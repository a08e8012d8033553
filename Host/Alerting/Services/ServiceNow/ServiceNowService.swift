import Engine
import Foundation
import TockModel

/// `servicenow`: events to ServiceNow's event management web service (Kapacitor: services/servicenow).
public struct ServiceNowService: AlertServiceKind {
    public static let kind = "servicenow"
    public static let section = ConfigSectionSpec("servicenow", redacted: ["password"])

    public let enabled: Bool
    /// The events API URL.
    public let url: String
    /// The default event source.
    public let source: String
    public let username: String
    public let password: String
    /// Whether every alert uses the service without naming it.
    public let global: Bool
    public let stateChangesOnly: Bool

    public init(elements: [ConfigTable]) throws(ConfigError) {
        var r = ConfigReader(elements.first ?? [:], section: "servicenow")
        enabled = try r.bool("enabled")
        url = try r.string("url", default: "https://instance.service-now.com/api/global/em/jsonv2")
        source = try r.string("source")
        username = try r.string("username")
        password = try r.string("password")
        global = try r.bool("global")
        stateChangesOnly = try r.bool("state-changes-only")
        try r.finish()
        if enabled && url.isEmpty { throw ConfigError("[servicenow] must specify events URL") }
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "url": .string(url), "source": .string(source), "username": .string(username),
          "password": .bool(!password.isEmpty), "global": .bool(global), "state-changes-only": .bool(stateChangesOnly)]]
    }

    public var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }

    public var globalStateChangesOnly: Bool { global && stateChangesOnly }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let url = try r.string("url") ?? ""
        let username = try r.string("username") ?? ""
        let password = try r.string("password") ?? ""
        let source = try r.string("source") ?? ""
        var templates: [String: EventTemplate] = [:]
        let data = EventTemplate.Data.fields(typeName: "*servicenow.dataInfo", ["ID", "Name", "TaskName", "Fields", "Tags"])
        for key in ["node", "type", "resource", "metric_name", "message_key"] {
            if let text = try r.string(key), !text.isEmpty { templates[key] = try .option(text, name: key, data: data, kind: Self.kind) }
        }
        var info: [(String, ServiceNowSender.Info)] = []
        if let v = r.value("additional_info") {
            guard case .object(let entries) = v else {
                throw HandlerOptionError("servicenow option additional_info must be a map", option: "additional_info")
            }
            for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
                if case .string(let text) = value {
                    info.append((key, .template(try .option(text, name: "additional_info." + key, data: data, kind: Self.kind))))
                } else {
                    info.append((key, .text(Self.goPrint(value))))
                }
            }
        }
        try r.finish()
        guard enabled else { throw IncidentSupport.notEnabled("servicenow") }
        return ServiceNowSender(
            url: url.isEmpty ? self.url : url, username: username.isEmpty ? self.username : username,
            password: password.isEmpty ? self.password : password, source: source.isEmpty ? self.source : source,
            templates: templates, additionalInfo: info)
    }

    /// `fmt.Sprintf("%v", v)` of a non-string option value.
    static func goPrint(_ v: HandlerOption) -> String {
        switch v {
        case .string(let s): s
        case .int(let i): String(i)
        case .float(let f): GoJSON.float(f)
        case .bool(let b): b ? "true" : "false"
        case .duration(let d): String(d)
        case .list(let items): "[" + items.map(goPrint).joined(separator: " ") + "]"
        case .object(let o): "map[" + o.sorted { $0.key < $1.key }.map { "\($0.key):\(goPrint($0.value))" }.joined(separator: " ") + "]"
        }
    }
}
