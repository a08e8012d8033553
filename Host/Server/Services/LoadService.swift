import Alerting
import Foundation
import Logging
import Yams

/// Kapacitor's `[load]` service (`services/load/service.go`): defines templates, tasks and template tasks from
/// files in `dir`, at start and on SIGHUP.
///
/// - `dir/templates/*.tick`: a template each, id = the file name without its extension.
/// - `dir/tasks/*.tick`: a task each, enabled, its type and dbrps as the script says.
/// - `dir/tasks/*.yaml|yml|json`: a task from a template (`template-id`, `vars`, `dbrps`), enabled.
/// - `dir/handlers/*.yaml|yml|json`: a topic handler each (`topic`, `id`, `kind`, `options`, `match`, as
///   `define-topic-handler` reads them; `id` defaults to the file name without its extension).
///
/// As Kapacitor does, a task or template is updated (and restarted) when it exists, and one that an earlier load
/// defined and whose file is gone is deleted; the ids loaded are kept in `<data_dir>/load-items.json` so that
/// this holds across restarts. Unlike Kapacitor, which stops at the first bad file, a broken file is logged
/// (file, line:column) and the others still load; a broken file's task is not deleted as missing, nor is any
/// handler while a handler file is broken.
final class LoadService: @unchecked Sendable {
    private let settings: LoadSettings
    private let tasks: TaskAPI
    private let log: Logger
    private let itemsFile: String
    private let lock = NSLock()

    init(settings: LoadSettings, tasks: TaskAPI, dataDirectory: String, log: Logger) {
        self.settings = settings
        self.tasks = tasks
        var log = log
        log[metadataKey: "service"] = "load"
        self.log = log
        itemsFile = (dataDirectory as NSString).appendingPathComponent("load-items.json")
    }

    /// What was loaded (ids of tasks and templates), as kept between loads.
    struct Items: Codable, Equatable {
        var tasks: [String] = []
        var templates: [String] = []
        /// `topic/handler`.
        var handlers: [String] = []

        init() {}

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            tasks = try c.decodeIfPresent([String].self, forKey: .tasks) ?? []
            templates = try c.decodeIfPresent([String].self, forKey: .templates) ?? []
            handlers = try c.decodeIfPresent([String].self, forKey: .handlers) ?? []
        }
    }

    /// Loads every file; removes what an earlier load defined and whose file is gone.
    func load() {
        guard settings.enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: settings.directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            log.info("skipping load: the load directory does not exist", metadata: ["dir": .string(settings.directory)])
            return
        }
        var present = Items()
        for file in files("templates", extensions: ["tick"]) {
            let id = Self.id(of: file)
            present.templates.append(id)
            loading("template", file) { () throws(LoadError) in try defineTemplate(id: id, file: file) }
        }
        for file in files("tasks", extensions: ["tick"]) {
            let id = Self.id(of: file)
            present.tasks.append(id)
            loading("task", file) { () throws(LoadError) in try defineTask(id: id, file: file) }
        }
        for file in files("tasks", extensions: ["yaml", "yml", "json"]) {
            let id = Self.id(of: file)
            present.tasks.append(id)
            loading("template task", file) { () throws(LoadError) in try defineTemplateTask(id: id, file: file) }
        }
        var handlerFileFailed = false
        for file in files("handlers", extensions: ["yaml", "yml", "json"]) {
            handlerFileFailed = !loading("topic handler", file) { () throws(LoadError) in present.handlers.append(try defineHandler(file: file)) }
                || handlerFileFailed
        }
        let previous = readItems()
        // A handler file that failed to load may be the one that defined a handler: none is deleted as missing then.
        if handlerFileFailed { present.handlers += previous.handlers.filter { !present.handlers.contains($0) } }
        for key in previous.handlers where !present.handlers.contains(key) {
            guard let topics, let slash = key.lastIndex(of: "/") else { continue }
            do {
                try topics.remove(topic: String(key[..<slash]), id: String(key[key.index(after: slash)...]))
                log.info("deleted topic handler: its file is gone from the load directory", metadata: [
                    "handler": .string(key),
                ])
            } catch {
                tasks.master.metrics.loadFailed()
                log.error("failed to remove missing topic handler", metadata: [
                    "handler": .string(key), "err": .string(error.message),
                ])
            }
        }
        for id in previous.tasks where !present.tasks.contains(id) {
            do {
                try tasks.delete(id)
                log.info("deleted task: its file is gone from the load directory", metadata: ["task": .string(id)])
            } catch {
                tasks.master.metrics.loadFailed()
                log.error("failed to remove missing task", metadata: [
                    "task": .string(id), "err": .string(error.message),
                ])
            }
        }
        for id in previous.templates where !present.templates.contains(id) {
            do {
                try tasks.deleteTemplate(id)
                log.info("deleted template: its file is gone from the load directory", metadata: [
                    "template": .string(id),
                ])
            } catch {
                tasks.master.metrics.loadFailed()
                log.error("failed to remove missing template", metadata: [
                    "template": .string(id), "err": .string(error.message),
                ])
            }
        }
        writeItems(present)
    }

    /// Runs `body`, logging and counting its failure; whether it succeeded.
    @discardableResult
    private func loading(_ kind: String, _ file: String, _ body: () throws(LoadError) -> Void) -> Bool {
        log.debug("loading \(kind)", metadata: ["file": .string(file)])
        do { try body() } catch {
            tasks.master.metrics.loadFailed()
            log.error("failed to load \(kind) \(file)", metadata: ["err": .string(error.description)])
            return false
        }
        return true
    }

    private func files(_ sub: String, extensions: Set<String>) -> [String] {
        let dir = (settings.directory as NSString).appendingPathComponent(sub)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return names.sorted().compactMap { name in
            let path = (dir as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard extensions.contains((name as NSString).pathExtension),
                  FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
            return path
        }
    }

    static func id(of file: String) -> String { ((file as NSString).lastPathComponent as NSString).deletingPathExtension }

    // MARK: Defining

    private func read(_ file: String) throws(LoadError) -> String {
        do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw LoadError(file: file, "cannot read: \(error.localizedDescription)")
        }
    }

    private func defineTemplate(id: String, file: String) throws(LoadError) {
        let script = try read(file)
        try api(file) { () throws(APIError) in
            if (try? tasks.getTemplate(id)) != nil {
                _ = try tasks.updateTemplate(id, .object([("script", .string(script))]))
            } else {
                _ = try tasks.createTemplate(.object([("id", .string(id)), ("script", .string(script))]))
            }
        }
    }

    private func defineTask(id: String, file: String) throws(LoadError) {
        let script = try read(file)
        try define(id: id, file: file, body: [("script", .string(script))])
    }

    /// Creates the task enabled, or updates it and restarts it (Kapacitor updates, disables and enables it).
    private func define(id: String, file: String, body: [(String, JSON)]) throws(LoadError) {
        try api(file) { () throws(APIError) in
            if (try? tasks.get(id)) != nil {
                _ = try tasks.update(id, .object(body + [("status", .string("enabled"))]))
            } else {
                _ = try tasks.create(.object([("id", .string(id))] + body + [("status", .string("enabled"))]))
            }
        }
    }

    /// The daemon's topics API, when it has an alert service.
    private var topics: TopicAPI? {
        (tasks.master.alertService as? AlertingService).map { TopicAPI(alerting: $0, store: tasks.master.store) }
    }

    /// Defines the handler of `file`; returns its `topic/id`.
    private func defineHandler(file: String) throws(LoadError) -> String {
        guard let topics else { throw LoadError(file: file, "this daemon has no alert service") }
        let document = try document(file)
        guard let members = document.objectValue else { throw LoadError(file: file, "expected an object with topic, id, kind, options and match") }
        let known: Set<String> = ["topic", "id", "kind", "options", "match"]
        if let unknown = members.map(\.0).first(where: { !known.contains($0) }) {
            throw LoadError(file: file, "unknown key \"\(unknown)\" (a handler file has topic, id, kind, options and match)")
        }
        guard let topic = document["topic"]?.stringValue, !topic.isEmpty else { throw LoadError(file: file, "missing topic") }
        var spec: TopicHandlerSpec
        do { spec = try TopicAPI.spec(from: document, topic: topic, prefix: "invalid handler") } catch { throw LoadError(file: file, error.message) }
        if spec.id.isEmpty { spec.id = Self.id(of: file) }
        do { try topics.put(spec) } catch { throw LoadError(file: file, error.message) }
        return "\(topic)/\(spec.id)"
    }

    /// A YAML or JSON file as JSON.
    private func document(_ file: String) throws(LoadError) -> JSON {
        let text = try read(file)
        if file.hasSuffix(".json") {
            do { return try JSON.parse(Array(text.utf8)) } catch {
                throw LoadError(file: file, "not valid JSON: \(error)")
            }
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw LoadError(file: file, Self.yamlProblem(e))
        } catch {
            throw LoadError(file: file, "not valid YAML: \(error)")
        }
        guard let node else { throw LoadError(file: file, "the file is empty") }
        return try Self.json(node, file: file)
    }

    private func defineTemplateTask(id: String, file: String) throws(LoadError) {
        let text = try read(file)
        let document: JSON
        if file.hasSuffix(".json") {
            do { document = try JSON.parse(Array(text.utf8)) } catch {
                throw LoadError(file: file, "not valid JSON: \(error)")
            }
        } else {
            let node: Node?
            do { node = try Yams.compose(yaml: text) } catch let e as YamlError {
                throw LoadError(file: file, Self.yamlProblem(e))
            } catch {
                throw LoadError(file: file, "not valid YAML: \(error)")
            }
            guard let node else { throw LoadError(file: file, "the file is empty") }
            document = try Self.json(node, file: file)
        }
        guard let members = document.objectValue else { throw LoadError(file: file, "expected an object with template-id, vars and dbrps") }
        var body: [(String, JSON)] = []
        for (key, value) in members {
            switch key {
            case "template-id", "vars", "dbrps": body.append((key, value))
            case "id": continue
            default: throw LoadError(file: file, "unknown key \"\(key)\" (a template task file has template-id, vars and dbrps)")
            }
        }
        guard body.contains(where: { $0.0 == "template-id" }) else { throw LoadError(file: file, "missing template-id") }
        try define(id: id, file: file, body: body)
    }

    private func api(_ file: String, _ body: () throws(APIError) -> Void) throws(LoadError) {
        do { try body() } catch {
            // A script error is "LINE:COLUMN: message" and the offending line under it: FILE:LINE:COLUMN: message.
            let first = error.message.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? error.message
            throw LoadError(file: file, first)
        }
    }

    // MARK: YAML

    static func yamlProblem(_ e: YamlError) -> String {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            "\(mark.line):\(mark.column): not valid YAML: \(problem)"
        default: "not valid YAML: \(e)"
        }
    }

    /// A YAML document as JSON: plain scalars that read as numbers or booleans become them, as ghodss/yaml does.
    static func json(_ node: Node, file: String) throws(LoadError) -> JSON {
        switch node {
        case .scalar(let s):
            if s.style == .plain || s.style == .any {
                if let b = Bool(s.string) { return .bool(b) }
                if let i = Int64(s.string) { return .int(i) }
                if let d = Double(s.string) { return .double(d) }
                if s.string == "null" || s.string == "~" { return .null }
            }
            return .string(s.string)
        case .mapping(let m):
            var members: [(String, JSON)] = []
            for (k, v) in m {
                guard case .scalar(let key) = k else {
                    throw LoadError(file: file, "\(k.mark.map { "\($0.line):\($0.column): " } ?? "")a key must be a string")
                }
                members.append((key.string, try json(v, file: file)))
            }
            return .object(members)
        case .sequence(let s):
            var items: [JSON] = []
            for v in s { items.append(try json(v, file: file)) }
            return .array(items)
        case .alias:
            throw LoadError(file: file, "\(node.mark.map { "\($0.line):\($0.column): " } ?? "")YAML aliases are not supported")
        }
    }

    // MARK: Items

    private func readItems() -> Items {
        guard let data = FileManager.default.contents(atPath: itemsFile) else { return Items() }
        return (try? JSONDecoder().decode(Items.self, from: data)) ?? Items()
    }

    private func writeItems(_ items: Items) {
        do {
            let data = try JSONEncoder().encode(items)
            try data.write(to: URL(fileURLWithPath: itemsFile), options: .atomic)
        } catch {
            log.error("cannot save what was loaded", metadata: ["file": .string(itemsFile), "err": "\(error)"])
        }
    }
}

/// A load-directory file that could not be loaded: the file and, where known, line:column.
struct LoadError: Error, CustomStringConvertible {
    var description: String
    init(file: String, _ message: String) {
        description = message.first?.isNumber == true ? "\(file):\(message)" : "\(file): \(message)"
    }
}

/// The `[load]` section.
public struct LoadSettings: Sendable, Equatable {
    public var enabled = false
    public var directory = "/etc/kapacitor/load"

    public init() {}

    mutating func set(key: String, value: String, origin: String) throws(ConfigurationError) {
        switch key {
        case "enabled":
            guard let b = Bool(value.lowercased()) else { throw ConfigurationError("\(origin): enabled must be true or false, got \"\(value)\"") }
            enabled = b
        case "dir": directory = value
        default: throw ConfigurationError("\(origin): unknown setting load.\(key)")
        }
    }
}
