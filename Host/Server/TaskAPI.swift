import Engine
import Foundation
import Storage
import TICKScript
import TockModel

/// The `/kapacitor/v1/tasks` and `/templates` resources in Kapacitor's JSON shapes.
struct TaskAPI: Sendable {
    let master: TaskMaster
    static let base = "/kapacitor/v1"
    /// Kapacitor's preview API (`/kapacitor/v1preview`): ping and the log stream.
    static let previewBase = "/kapacitor/v1preview"

    // MARK: Tasks

    /// `POST /tasks`: defines a task (from a script or a template), enabled if its status says so.
    func create(_ body: JSON) throws(APIError) -> JSON {
        let id = try Self.identifier(body["id"]?.stringValue)
        if try stored(id) != nil { throw APIError(.badRequest, "task \(id) already exists") }
        let now = nowNanoseconds()
        var task = StoredTask(id: id, type: "", dbrps: [], script: "", status: "disabled", created: now, modified: now)
        try fill(&task, from: body, creating: true)
        try master.apply(task, previous: nil)
        return try json(of: stored(id)!, fields: nil)
    }

    /// `PATCH /tasks/{id}`: changes the properties present in the body; the rest stays.
    func update(_ id: String, _ body: JSON) throws(APIError) -> JSON {
        guard let previous = try stored(id) else { throw APIError(.notFound, "task \(id) does not exist, cannot update") }
        var task = previous
        try fill(&task, from: body, creating: false)
        if let newID = body["id"]?.stringValue, newID != id {
            throw APIError(.badRequest, "renaming tasks is not supported (task \(id) to \(newID))")
        }
        task.modified = nowNanoseconds()
        try master.apply(task, previous: previous)
        return try json(of: stored(id)!, fields: nil)
    }

    func get(_ id: String) throws(APIError) -> JSON {
        guard let task = try stored(id) else { throw APIError(.notFound, "no task exists") }
        return json(of: task, fields: nil)
    }

    /// `GET /tasks?pattern=&fields=&offset=&limit=`.
    func list(pattern: String?, fields: [String], offset: Int, limit: Int) throws(APIError) -> JSON {
        let all: [StoredTask]
        do { all = try master.store.tasks() } catch { throw APIError(.internalServerError, "\(error)") }
        let matching = all.filter { task in pattern.map { Glob.matches($0, task.id) } ?? true }
        let page = matching.dropFirst(max(0, offset)).prefix(max(0, limit))
        return .object([("tasks", .array(page.map { json(of: $0, fields: fields.isEmpty ? nil : Set(fields)) }))])
    }

    func delete(_ id: String) throws(APIError) {
        try master.delete(id)
    }

    /// Applies the properties of a create or patch body to `task`, checking that the result builds.
    private func fill(_ task: inout StoredTask, from body: JSON, creating: Bool) throws(APIError) {
        if let templateID = body["template-id"]?.stringValue, !templateID.isEmpty {
            let template: StoredTemplate?
            do { template = try master.store.template(templateID) } catch { throw APIError(.internalServerError, "\(error)") }
            guard let template else { throw APIError(.badRequest, "unknown template \(templateID)") }
            task.templateID = templateID
            task.script = template.script
            task.type = template.type
        } else if let script = body["script"]?.stringValue {
            if !task.templateID.isEmpty && !creating {
                throw APIError(.badRequest, "cannot set the script of task \(task.id): it is created from template \(task.templateID)")
            }
            task.script = script
        }
        if let type = body["type"]?.stringValue {
            guard type == "stream" || type == "batch" else { throw APIError(.badRequest, "unknown task type \"\(type)\"") }
            task.type = type
        }
        if let dbrps = body["dbrps"] {
            guard let items = dbrps.arrayValue else { throw APIError(.badRequest, "dbrps must be a list of {db, rp}") }
            var list: [StoredDBRP] = []
            for item in items {
                guard let db = item["db"]?.stringValue, let rp = item["rp"]?.stringValue, !db.isEmpty, !rp.isEmpty else {
                    throw APIError(.badRequest, "each dbrp needs a db and an rp, got \(item.serialized)")
                }
                list.append(StoredDBRP(db: db, rp: rp))
            }
            task.dbrps = list
        }
        if let vars = body["vars"] {
            task.vars = TaskVars.json(try TaskVars.parse(vars)).serialized
        }
        if let status = body["status"]?.stringValue {
            guard status == "enabled" || status == "disabled" else {
                throw APIError(.badRequest, "invalid status \"\(status)\": use enabled or disabled")
            }
            task.status = status
        }
        if task.script.isEmpty { throw APIError(.badRequest, "must provide a TICKscript or a template-id") }
        let built = try master.validate(task)
        if task.type.isEmpty { task.type = built.type }
        if task.type != built.type {
            throw APIError(.badRequest, "invalid TICKscript: task type is \(task.type) but the script starts with \(built.type)")
        }
        if task.type == "stream" && task.dbrps.isEmpty && built.scriptDBRPs.isEmpty {
            throw APIError(.badRequest, "must provide at least one database and retention policy")
        }
    }

    func json(of task: StoredTask, fields: Set<String>?) -> JSON {
        let state = master.state(of: task)
        var members: [(String, JSON)] = [
            ("link", Self.link("tasks", task.id)),
            ("id", .string(task.id)),
        ]
        func add(_ key: String, _ value: @autoclosure () -> JSON) {
            if fields == nil || fields!.contains(key) { members.append((key, value())) }
        }
        add("template-id", .string(task.templateID))
        add("type", .string(task.type))
        add("dbrps", .array(Self.dbrps(of: task).map { .object([("db", .string($0.db)), ("rp", .string($0.rp))]) }))
        add("script", .string(task.script))
        add("vars", (try? JSON.parse(Array(task.vars.utf8))) ?? .object([]))
        add("dot", .string(dot(state)))
        add("status", .string(task.status))
        add("executing", .bool(state.runner.map { !$0.state.ended } ?? false))
        add("error", .string(state.error))
        add("stats", stats(state))
        add("created", .string(rfc3339Nano(task.created)))
        add("modified", .string(rfc3339Nano(task.modified)))
        add("last-enabled", .string(rfc3339Nano(task.lastEnabled)))
        return .object(members)
    }

    /// The task's dbrps: those given with the definition, then the script's own `dbrp` statements.
    static func dbrps(of task: StoredTask) -> [StoredDBRP] {
        var all = task.dbrps
        for statement in (try? Program.parse(task.script))?.statements ?? [] {
            if case .dbrp(let db, let rp) = statement.kind, !all.contains(where: { $0.db == db && $0.rp == rp }) {
                all.append(StoredDBRP(db: db, rp: rp))
            }
        }
        return all
    }

    private func dot(_ state: TaskMaster.TaskState) -> String {
        if let runner = state.runner { return runner.dot() }
        return (try? master.validate(state.stored).dot) ?? ""
    }

    private func stats(_ state: TaskMaster.TaskState) -> JSON {
        guard let runner = state.runner else { return .object([]) }
        return taskStatisticsJSON(runner.stats())
    }

    private func stored(_ id: String) throws(APIError) -> StoredTask? {
        do { return try master.store.task(id) } catch { throw APIError(.internalServerError, "\(error)") }
    }

    // MARK: Templates

    /// `POST /templates`.
    func createTemplate(_ body: JSON) throws(APIError) -> JSON {
        let id = try Self.identifier(body["id"]?.stringValue)
        if try storedTemplate(id) != nil { throw APIError(.badRequest, "template \(id) already exists") }
        guard let script = body["script"]?.stringValue, !script.isEmpty else {
            throw APIError(.badRequest, "must provide a TICKscript")
        }
        let type = try templateType(script: script, given: body["type"]?.stringValue)
        let now = nowNanoseconds()
        let template = StoredTemplate(id: id, type: type, script: script, created: now, modified: now)
        do { try master.store.save(template) } catch { throw APIError(.internalServerError, "\(error)") }
        return templateJSON(template)
    }

    /// `PATCH /templates/{id}`: the new script is checked against every task made from the template; if one
    /// does not build, nothing changes. Enabled tasks restart with the new script.
    func updateTemplate(_ id: String, _ body: JSON) throws(APIError) -> JSON {
        guard var template = try storedTemplate(id) else {
            throw APIError(.notFound, "template \(id) does not exist, cannot update")
        }
        if let script = body["script"]?.stringValue { template.script = script }
        template.type = try templateType(script: template.script, given: body["type"]?.stringValue ?? template.type)
        template.modified = nowNanoseconds()
        let tasks: [StoredTask]
        do { tasks = try master.store.tasks().filter { $0.templateID == id } } catch {
            throw APIError(.internalServerError, "\(error)")
        }
        var updated: [StoredTask] = []
        for var task in tasks {
            task.script = template.script
            task.type = template.type
            task.modified = template.modified
            do { _ = try master.validate(task) } catch {
                throw APIError(.badRequest, "error reloading associated task \(task.id): \(error.message)")
            }
            updated.append(task)
        }
        do { try master.store.save(template, tasks: updated) } catch { throw APIError(.internalServerError, "\(error)") }
        for (old, new) in zip(tasks, updated) where new.status == "enabled" {
            try master.apply(new, previous: old)
        }
        return templateJSON(template)
    }

    func getTemplate(_ id: String) throws(APIError) -> JSON {
        guard let template = try storedTemplate(id) else { throw APIError(.notFound, "no template exists") }
        return templateJSON(template)
    }

    func listTemplates(pattern: String?, offset: Int, limit: Int) throws(APIError) -> JSON {
        let all: [StoredTemplate]
        do { all = try master.store.templates() } catch { throw APIError(.internalServerError, "\(error)") }
        let page = all.filter { template in pattern.map { Glob.matches($0, template.id) } ?? true }.dropFirst(max(0, offset)).prefix(max(0, limit))
        return .object([("templates", .array(page.map(templateJSON)))])
    }

    /// Deleting a template that tasks use is refused; deleting one that does not exist is not an error.
    func deleteTemplate(_ id: String) throws(APIError) {
        let users: [String]
        do { users = try master.store.tasks().filter { $0.templateID == id }.map(\.id) } catch {
            throw APIError(.internalServerError, "\(error)")
        }
        if !users.isEmpty {
            throw APIError(.badRequest, "cannot delete template \(id): used by task\(users.count == 1 ? "" : "s") \(users.joined(separator: ", "))")
        }
        do { try master.store.deleteTemplate(id) } catch { throw APIError(.internalServerError, "\(error)") }
    }

    private func templateType(script: String, given: String?) throws(APIError) -> String {
        let program: Program
        do { program = try Program.parse(script) } catch { throw APIError(.badRequest, error.rendered(source: script)) }
        _ = program
        let found = script.range(of: #"(^|\n)\s*(var\s+\w+\s*=\s*)?batch\b"#, options: .regularExpression) != nil
            ? "batch" : "stream"
        if let given, !given.isEmpty {
            guard given == "stream" || given == "batch" else { throw APIError(.badRequest, "unknown template type \"\(given)\"") }
            return given
        }
        return found
    }

    private func templateJSON(_ template: StoredTemplate) -> JSON {
        var vars: [(String, JSON)] = []
        var problem = ""
        do {
            let program = try Program.parse(template.script)
            // Expressions of constants (`name + ':{{.Group}}'`) show the value the build gives them.
            let constants = TaskBuilder(taskID: template.id).constants(of: program)
            vars = program.templateVariables.map { v -> (String, JSON) in
                let value = v.defaultValue.flatMap { $0.variableValue ?? constants[v.name].flatMap(TaskVars.variableValue) }
                return (v.name, .object([("type", .string(v.type.rawValue)),
                                  ("value", value.map { TaskVars.json($0)["value"] ?? .null } ?? .null),
                                  ("description", .string(v.description))]))
            }
        } catch {
            problem = error.rendered(source: template.script)
        }
        let users = ((try? master.store.tasks()) ?? []).filter { $0.templateID == template.id }.map(\.id)
        return .object([
            ("link", Self.link("templates", template.id)),
            ("id", .string(template.id)),
            ("type", .string(template.type)),
            ("script", .string(template.script)),
            ("vars", .object(vars)),
            ("dot", .string("")),
            ("error", .string(problem)),
            ("created", .string(rfc3339Nano(template.created))),
            ("modified", .string(rfc3339Nano(template.modified))),
            ("tasks", .array(users.map { .object([("link", Self.link("tasks", $0)), ("id", .string($0))]) })),
        ])
    }

    private func storedTemplate(_ id: String) throws(APIError) -> StoredTemplate? {
        do { return try master.store.template(id) } catch { throw APIError(.internalServerError, "\(error)") }
    }

    // MARK: Helpers

    static func link(_ collection: String, _ id: String) -> JSON {
        .object([("rel", .string("self")), ("href", .string("\(base)/\(collection)/\(id)"))])
    }

    /// An ID as Kapacitor accepts it (`^[-\._\p{L}0-9]+$`); a random UUID when none is given.
    static func identifier(_ id: String?) throws(APIError) -> String {
        guard let id, !id.isEmpty else { return UUID().uuidString.lowercased() }
        let valid = id.unicodeScalars.allSatisfy { s in
            s == "-" || s == "." || s == "_" || ("0"..."9").contains(s) || s.properties.isAlphabetic
        }
        guard valid else { throw APIError(.badRequest, "task ID must contain only letters, numbers, '-', '.' and '_'. \"\(id)\"") }
        return id
    }
}

/// Shell glob matching as Go's `filepath.Match`: `*`, `?`, `[…]` (with `^`/`!` negation and ranges), `\` escapes.
enum Glob {
    static func matches(_ pattern: String, _ name: String) -> Bool {
        match(Array(pattern.unicodeScalars), 0, Array(name.unicodeScalars), 0)
    }

    private static func match(_ p: [Unicode.Scalar], _ pi: Int, _ s: [Unicode.Scalar], _ si: Int) -> Bool {
        var pi = pi, si = si
        while pi < p.count {
            switch p[pi] {
            case "*":
                for k in si...s.count where match(p, pi + 1, s, k) { return true }
                return false
            case "?":
                guard si < s.count else { return false }
            case "[":
                guard si < s.count, let end = p[pi...].firstIndex(of: "]") else { return false }
                var set = Array(p[(pi + 1)..<end])
                let negate = set.first == "^" || set.first == "!"
                if negate { set.removeFirst() }
                var found = false
                var i = 0
                while i < set.count {
                    if i + 2 < set.count && set[i + 1] == "-" {
                        if (set[i]...set[i + 2]).contains(s[si]) { found = true }
                        i += 3
                    } else {
                        if set[i] == s[si] { found = true }
                        i += 1
                    }
                }
                guard found != negate else { return false }
                pi = end
            case "\\" where pi + 1 < p.count:
                pi += 1
                guard si < s.count, s[si] == p[pi] else { return false }
            default:
                guard si < s.count, s[si] == p[pi] else { return false }
            }
            pi += 1
            si += 1
        }
        return si == s.count
    }
}
