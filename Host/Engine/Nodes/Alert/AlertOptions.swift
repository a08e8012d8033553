import Foundation
import TICKScript
import TockModel

/// Everything an `alert` node was configured with, checked.
struct AlertOptions {
    static let defaultID = "{{ .Name }}:{{ .Group }}"
    static let defaultMessage = "{{ .ID }} is {{ .Level }}"
    static let defaultDetails = "{{ json . }}"
    static let defaultHistory = 21

    var selector = LevelSelector()
    var idTemplate: AlertTemplate
    var messageTemplate: AlertTemplate
    var detailsTemplate: AlertTemplate
    var history = defaultHistory
    var flapping: AlertState.Flapping?
    var stateChangesOnly = false
    /// `stateChangesOnly`'s maximum interval, nanoseconds; 0 for none.
    var maxInterval: Int64 = 0
    var noRecoveries = false
    var all = false
    var levelTag: String?
    var levelField: String?
    var messageField: String?
    var durationField: String?
    var idTag: String?
    var idField: String?
    /// The category other alerts' `.inhibit()` refers to.
    var category: String?
    /// `.inhibit(category, tags...)`: the categories this alert silences while it is not OK.
    var inhibits: [(category: String, equalTags: [String])] = []
    /// Where inhibitors are registered (process-wide unless a test gives its own).
    var inhibitorLookup = InhibitorLookup.shared
    /// The handlers the script sets, in order, with their options.
    var handlers: [AlertHandlerSpec] = []
    /// `.topic(name)`: the topic the events are published to.
    var topic: String?
    /// `.ServerInfo.Hostname` in templates (Kapacitor's `hostname` setting, "localhost" by default).
    var hostname = "localhost"

    init(id: String = defaultID, message: String = defaultMessage, details: String = defaultDetails) throws(TemplateError) {
        idTemplate = try AlertTemplate(name: "id", source: id, kind: .id)
        messageTemplate = try AlertTemplate(name: "message", source: message, kind: .message)
        detailsTemplate = try AlertTemplate(name: "details", source: details, kind: .details)
    }
}

extension AlertOptions {
    /// Reads a checked script configuration. `condition` turns a lambda into a predicate.
    ///
    /// Handler properties (`.header`, `.timeout`, `.mode`, …) apply to the handler set just before them,
    /// as in Kapacitor.
    /// `service` defaults to the configuration's, else ``NoAlertService``.
    init(_ config: NodeConfiguration, service: (any AlertService)? = nil,
         condition: (TICKScript.Expression) throws -> LevelSelector.Condition) throws {
        let service = service ?? config.alertService ?? NoAlertService()
        func template(_ name: String, _ kind: AlertTemplate.Kind, _ fallback: String) throws -> AlertTemplate {
            let call = config.properties.last { $0.name == name }
            guard let call, case .string(let source)? = call.arguments.first else {
                return try AlertTemplate(name: name, source: fallback, kind: kind)
            }
            do {
                return try AlertTemplate(name: name, source: source, kind: kind)
            } catch {
                throw ScriptError("invalid \(name) template on alert: \(error)", at: call.position)
            }
        }
        idTemplate = try template("id", .id, Self.defaultID)
        messageTemplate = try template("message", .message, Self.defaultMessage)
        detailsTemplate = try template("details", .details, Self.defaultDetails)

        func lambda(_ name: String) throws -> LevelSelector.Condition? {
            guard let call = config.properties.last(where: { $0.name == name }) else { return nil }
            guard case .lambda(let expression)? = call.arguments.first else {
                throw ScriptError("alert .\(name)() needs a lambda", at: call.position)
            }
            return try condition(expression)
        }
        selector = LevelSelector(
            info: try lambda("info"), warn: try lambda("warn"), crit: try lambda("crit"),
            infoReset: try lambda("infoReset"), warnReset: try lambda("warnReset"), critReset: try lambda("critReset"))

        var current: (index: Int, spec: HandlerKindSpec)?
        for (name, args, position) in config.properties {
            func string(_ i: Int = 0) -> String? {
                if i < args.count, case .string(let s) = args[i] { return s }
                return nil
            }
            // A handler's own property wins over the alert node's, as Go's method promotion does in Kapacitor.
            if let handler = current, let property = handler.spec.properties[name] {
                try HandlerArguments.check(args, property.signature, what: ".\(name)() on .\(handler.spec.method)()", at: position)
                HandlerArguments.apply(property.effect, args, to: &handlers[handler.index].options)
                handlers[handler.index].optionPositions[property.effect.key] = position
                continue
            }
            if let kind = HandlerCatalog.byMethod[name] {
                try HandlerArguments.check(args, kind.arguments, what: ".\(name)()", at: position)
                var spec = AlertHandlerSpec(kind: kind.kind, position: position)
                HandlerArguments.applyArguments(args, kind.arguments, keys: kind.argumentKeys, to: &spec.options)
                if kind.kind == "exec", let program = string(), let refusal = config.execPolicy.refusal(of: program) {
                    throw ScriptError("alert .exec(): \(refusal)", at: position)
                }
                handlers.append(spec)
                current = (handlers.count - 1, kind)
                continue
            }
            switch name {
            case "history":
                if case .int(let n)? = args.first { history = max(2, Int(n)) }
            case "flapping":
                guard args.count == 2, let low = Self.number(args[0]), let high = Self.number(args[1]) else {
                    throw ScriptError("alert .flapping() needs two numbers: low, high", at: position)
                }
                guard low <= 1, high <= 1 else {
                    throw ScriptError("alert flap thresholds are percentages and should be between 0 and 1", at: position)
                }
                flapping = AlertState.Flapping(low: low, high: high)
            case "stateChangesOnly":
                stateChangesOnly = true
                if case .duration(let d)? = args.first { maxInterval = d }
            case "noRecoveries": noRecoveries = true
            case "all": all = true
            case "levelTag": levelTag = string()
            case "levelField": levelField = string()
            case "messageField": messageField = string()
            case "durationField": durationField = string()
            case "idTag": idTag = string()
            case "idField": idField = string()
            case "category": category = string()
            case "topic": topic = string()
            case "inhibit":
                let names = args.compactMap { if case .string(let s) = $0 { s } else { nil } }
                guard let category = names.first else { throw ScriptError("alert .inhibit() needs a category", at: position) }
                inhibits.append((category, Array(names.dropFirst())))
            case "id", "message", "details", "info", "warn", "crit", "infoReset", "warnReset", "critReset":
                break
            default:
                // A handler property with no handler (or the wrong one) before it.
                let owners = HandlerCatalog.all.filter { $0.properties[name] != nil }.map { ".\($0.method)()" }
                let after = current.map { " (the handler before it is .\($0.spec.method)(), which has no .\(name)())" } ?? ""
                throw ScriptError(".\(name)() must follow \(owners.joined(separator: " or "))\(after)", at: position)
            }
        }
        for handler in handlers {
            do {
                try service.check(handler)
            } catch let error as HandlerOptionError {
                let at = error.option.flatMap { handler.optionPositions[$0] } ?? handler.position ?? config.position
                throw ScriptError(error.message, at: at)
            } catch {
                throw ScriptError("\(error)", at: handler.position ?? config.position)
            }
        }
        if service.forcesStateChangesOnly { stateChangesOnly = true }
    }

    private static func number(_ v: Value) -> Double? {
        switch v {
        case .float(let f): f
        case .int(let i): Double(i)
        default: nil
        }
    }
}
