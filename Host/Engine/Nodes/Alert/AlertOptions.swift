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
    var handlers: [any AlertHandler] = []
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
    init(_ config: NodeConfiguration, condition: (TICKScript.Expression) throws -> LevelSelector.Condition) throws {
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

        var pendingPost: (url: URL, headers: [(String, String)], timeout: Double, position: SourcePosition)?
        var pendingLog: (path: String, mode: UInt32)?
        func flush() {
            if let p = pendingPost { handlers.append(PostHandler(url: p.url, headers: p.headers, timeout: p.timeout)) }
            if let l = pendingLog { handlers.append(LogHandler(path: l.path, mode: l.mode)) }
            pendingPost = nil
            pendingLog = nil
        }

        for (name, args, position) in config.properties {
            func string(_ i: Int = 0) -> String? {
                if i < args.count, case .string(let s) = args[i] { return s }
                return nil
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
            case "topic":
                throw ScriptError("alert .topic() is not supported by Tock yet: set the handlers on the alert node", at: position)
            case "inhibit":
                let names = args.compactMap { if case .string(let s) = $0 { s } else { nil } }
                guard let category = names.first else { throw ScriptError("alert .inhibit() needs a category", at: position) }
                inhibits.append((category, Array(names.dropFirst())))
            case "log":
                flush()
                guard let path = string(), path.hasPrefix("/") else {
                    throw ScriptError("alert log path must be absolute: \(string() ?? "") is not absolute", at: position)
                }
                pendingLog = (path, 0o600)
            case "mode":
                guard pendingLog != nil, case .int(let m)? = args.first else {
                    throw ScriptError(".mode() must follow .log()", at: position)
                }
                guard let mode = Self.fileMode(m) else {
                    throw ScriptError(
                        "invalid file mode \(m) in .mode(): give an octal mode between 0 and 07777, such as 0644", at: position)
                }
                pendingLog!.mode = mode
            case "post":
                flush()
                guard let text = string() else {
                    throw ScriptError("alert .post() without a URL needs .endpoint(), which alert .post() does not support yet (the httpPost node does); give the URL", at: position)
                }
                guard let url = URL(string: text), let scheme = url.scheme, scheme == "http" || scheme == "https" else {
                    throw ScriptError("invalid post URL \(text): want http:// or https://", at: position)
                }
                pendingPost = (url, [], 0, position)
            case "header":
                guard pendingPost != nil, let k = string(), let v = string(1) else {
                    throw ScriptError(".header(name, value) must follow .post()", at: position)
                }
                if k.lowercased() == "authenticate" {
                    throw ScriptError("setting the Authenticate header is not allowed from a script", at: position)
                }
                pendingPost!.headers.append((k, v))
            case "timeout":
                guard pendingPost != nil, case .duration(let d)? = args.first else {
                    throw ScriptError(".timeout() must follow .post()", at: position)
                }
                pendingPost!.timeout = Double(d) / 1e9
            case "captureResponse", "skipSSLVerification":
                guard pendingPost != nil else { throw ScriptError(".\(name)() must follow .post()", at: position) }
                if name == "skipSSLVerification" {
                    throw ScriptError("alert .post().skipSSLVerification() is not supported by Tock yet", at: position)
                }
            case "endpoint":
                throw ScriptError("alert .post().endpoint() is not supported yet ([[httppost]] endpoints serve the httpPost node only); give the URL", at: position)
            case "tcp":
                flush()
                guard let address = string(), TCPHandler.split(address) != nil else {
                    throw ScriptError("alert .tcp() needs an address host:port", at: position)
                }
                handlers.append(TCPHandler(address: address))
            case "exec":
                flush()
                let argv = args.compactMap { if case .string(let s) = $0 { s } else { nil } }
                guard let program = argv.first, !program.isEmpty else {
                    throw ScriptError("alert .exec() needs a program", at: position)
                }
                if let refusal = config.execPolicy.refusal(of: program) {
                    throw ScriptError("alert .exec(): \(refusal)", at: position)
                }
                handlers.append(ExecHandler(program: program, arguments: Array(argv.dropFirst())))
            default:
                break
            }
        }
        flush()
    }

    private static func number(_ v: Value) -> Double? {
        switch v {
        case .float(let f): f
        case .int(let i): Double(i)
        default: nil
        }
    }

    /// `.mode(0644)`: the lexer already read `0644` as the octal literal it is (420), so the integer is the
    /// mode as it stands; outside 0…0o7777 it is no file mode.
    static func fileMode(_ m: Int64) -> UInt32? {
        (0...0o7777).contains(m) ? UInt32(m) : nil
    }
}
