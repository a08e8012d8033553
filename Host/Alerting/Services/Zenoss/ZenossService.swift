import Engine
import Foundation
import TockModel

/// `zenoss`: events to a Zenoss router (`EventsRouter.add_event` by default) (Kapacitor: services/zenoss).
public struct ZenossService: AlertServiceKind {
    public static let kind = "zenoss"
    public static let section = ConfigSectionSpec("zenoss", redacted: ["password"])

    public let enabled: Bool
    /// The router endpoint URL.
    public let url: String
    public let username: String
    public let password: String
    /// The router name.
    public let action: String
    /// The router method.
    public let method: String
    public let type: String
    public let tid: Int64
    public let collector: String
    /// The Zenoss severity of each alert level (a name such as `Critical` or a number), by `OK`, `Info`, `Warning`,
    /// `Critical`.
    public let severityMap: [AlertLevel: SeverityValue]
    public let global: Bool
    public let stateChangesOnly: Bool

    /// A Zenoss severity: a name or a number, sent as written.
    public enum SeverityValue: Sendable, Hashable {
        case name(String)
        case number(Double)
    }

    public init(elements: [ConfigTable]) throws(ConfigError) {
        let table = elements.first ?? [:]
        var r = ConfigReader(table, section: "zenoss")
        enabled = try r.bool("enabled")
        url = try r.string("url", default: "https://tenant.zenoss.io:8080/zport/dmd/evconsole_router")
        username = try r.string("username")
        password = try r.string("password")
        action = try r.string("action", default: "EventsRouter")
        method = try r.string("method", default: "add_event")
        type = try r.string("type", default: "rpc")
        tid = try r.int("tid", default: 1)
        collector = try r.string("collector")
        global = try r.bool("global")
        stateChangesOnly = try r.bool("state-changes-only")
        r.skip("severity-map")
        try r.finish()
        var map: [AlertLevel: SeverityValue] = [.ok: .name("Clear"), .info: .name("Info"), .warning: .name("Warning"), .critical: .name("Critical")]
        if let v = table["severity-map"] {
            guard case .table(let t) = v else { throw ConfigError("[zenoss] severity-map must be a table {OK = …, Info = …, Warning = …, Critical = …}") }
            let levels: [String: AlertLevel] = ["ok": .ok, "info": .info, "warning": .warning, "critical": .critical]
            for (key, value) in t {
                guard let level = levels[key.lowercased()] else { throw ConfigError("[zenoss] Unknown field \(key) for SeverityMap (OK, Info, Warning, Critical)") }
                switch value {
                case .string(let s): map[level] = .name(s)
                case .int(let i): map[level] = .number(Double(i))
                case .float(let f): map[level] = .number(f)
                default: throw ConfigError("[zenoss] severity-map.\(key) must be a name or a number")
                }
            }
        }
        severityMap = map
        if enabled && url.isEmpty { throw ConfigError("[zenoss] must specify events URL") }
    }

    public var elements: [ConfigTable] {
        func value(_ level: AlertLevel) -> ConfigValue {
            switch severityMap[level]! {
            case .name(let s): .string(s)
            case .number(let d): d == d.rounded() ? .int(Int64(d)) : .float(d)
            }
        }
        return [[
            "enabled": .bool(enabled), "url": .string(url), "username": .string(username), "password": .bool(!password.isEmpty),
            "action": .string(action), "method": .string(method), "type": .string(type), "tid": .int(tid),
            "collector": .string(collector), "global": .bool(global), "state-changes-only": .bool(stateChangesOnly),
            "severity-map": .table(["OK": value(.ok), "Info": value(.info), "Warning": value(.warning), "Critical": value(.critical)]),
        ]]
    }

    public var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }

    public var globalStateChangesOnly: Bool { global && stateChangesOnly }

    /// The template options (Go struct fields without a mapstructure tag, matched case-insensitively as mapstructure
    /// matches them).
    static let templateOptions = ["summary", "device", "component", "eventClassKey", "eventClass", "collector", "message"]

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var normalized: [String: HandlerOption] = [:]
        for (key, value) in options {
            normalized[Self.templateOptions.first { $0.lowercased() == key.lowercased() } ?? key] = value
        }
        var r = OptionReader(normalized, kind: Self.kind)
        let url = try r.string("url") ?? ""
        let username = try r.string("username") ?? ""
        let password = try r.string("password") ?? ""
        let action = try r.string("action") ?? ""
        let method = try r.string("method") ?? ""
        let type = try r.string("type") ?? ""
        let tid = try r.int("tid") ?? 0
        let data = EventTemplate.Data.fields(typeName: "*struct", ["Name", "TaskName", "ID", "Message", "Details", "Time", "Duration", "Level", "Recoverable", "Tags"])
        var templates: [String: EventTemplate] = [:]
        for key in Self.templateOptions {
            if let text = try r.string(key), !text.isEmpty { templates[key] = try .option(text, name: key, data: data, kind: Self.kind) }
        }
        var custom: [(String, ZenossSender.Custom)] = []
        if let v = r.value("customField") {
            guard case .object(let entries) = v else { throw HandlerOptionError("zenoss option customField must be a map", option: "customField") }
            for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
                if case .string(let text) = value {
                    custom.append((key, .template(try .option(text, name: "customData." + key, data: data, kind: Self.kind))))
                } else {
                    custom.append((key, .value(GoValueJSON(value))))
                }
            }
        }
        try r.finish()
        guard enabled else { throw IncidentSupport.notEnabled("zenoss") }
        return ZenossSender(
            url: url.isEmpty ? self.url : url, username: username.isEmpty ? self.username : username,
            password: password.isEmpty ? self.password : password, action: action.isEmpty ? self.action : action,
            method: method.isEmpty ? self.method : method, type: type.isEmpty ? self.type : type, tid: tid == 0 ? self.tid : tid,
            collector: collector, severityMap: severityMap, templates: templates, custom: custom)
    }
}
