import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Storage
import TockModel

/// `/kapacitor/v1/recordings…` and `/replays…` in Kapacitor's JSON shapes (services/replay/service.go,
/// client/v1/client.go). A replay's JSON also carries `stats` (the task copy's node counters, as Kapacitor's
/// `ExecutionStats`), `points`/`total-points` while it runs, and `results`: what the copy published
/// (`{"http-out":{endpoint: {"series":…}},"alerts":[…],"alert-count":N}`).
struct RecordingsAPI: Sendable {
    let service: ReplayService
    static let base = TaskAPI.base

    func register(on router: Router<BasicRequestContext>) {
        let base = Self.base
        router.get("\(base)/recordings") { request, _ in try TockAPI.json(listRecordings(request.uri.queryParameters)) }
        router.post("\(base)/recordings/stream") { request, _ in
            try TockAPI.json(recordStream(await TockAPI.body(request)), status: .created)
        }
        router.post("\(base)/recordings/batch") { request, _ in
            try TockAPI.json(recordBatch(await TockAPI.body(request)), status: .created)
        }
        router.post("\(base)/recordings/query") { request, _ in
            try TockAPI.json(recordQuery(await TockAPI.body(request)), status: .created)
        }
        router.get("\(base)/recordings/:id") { _, context in
            let recording = try recording(context.parameters.require("id"))
            return TockAPI.json(json(of: recording, fields: nil), status: recording.status == "running" ? .accepted : .ok)
        }
        router.delete("\(base)/recordings/:id") { _, context in
            try service.deleteRecording(context.parameters.require("id"))
            return Response(status: .noContent)
        }
        router.get("\(base)/replays") { request, _ in try TockAPI.json(listReplays(request.uri.queryParameters)) }
        router.post("\(base)/replays") { request, _ in
            try TockAPI.json(createReplay(await TockAPI.body(request)), status: .created)
        }
        router.post("\(base)/replays/batch") { request, _ in
            try TockAPI.json(await replayBatch(await TockAPI.body(request)), status: .created)
        }
        router.post("\(base)/replays/query") { request, _ in
            try TockAPI.json(await replayQuery(await TockAPI.body(request)), status: .created)
        }
        router.get("\(base)/replays/:id") { _, context in
            let id = try context.parameters.require("id")
            let stored: StoredReplay?
            do { stored = try service.store.replay(id) } catch { throw APIError(.internalServerError, "\(error)") }
            guard let stored else { throw APIError(.notFound, "could not find replay: no replay exists") }
            return TockAPI.json(json(of: stored, fields: nil), status: stored.status == "running" ? .accepted : .ok)
        }
        router.delete("\(base)/replays/:id") { _, context in
            try service.deleteReplay(context.parameters.require("id"))
            return Response(status: .noContent)
        }
    }

    // MARK: Recordings

    func recordStream(_ body: JSON) throws(APIError) -> JSON {
        let id = try Self.identifier(body["id"]?.stringValue, what: "recording")
        let task = try task(body["task"]?.stringValue, prefix: "")
        guard task.type == "stream" else {
            throw APIError(.badRequest, "cannot record stream for task \(task.id): it is a \(task.type) task")
        }
        guard let text = body["stop"]?.stringValue, let stop = RFC3339Nano.parse(text) else {
            throw APIError(.badRequest, "must provide a stop time (RFC 3339), got \(body["stop"]?.serialized ?? "none")")
        }
        return json(of: try service.recordStream(id: id, task: task, stop: stop), fields: nil)
    }

    func recordBatch(_ body: JSON) throws(APIError) -> JSON {
        let id = try Self.identifier(body["id"]?.stringValue, what: "recording")
        let (start, stop) = try Self.range(body)
        let task = try task(body["task"]?.stringValue, prefix: "")
        guard task.type == "batch" else {
            throw APIError(.badRequest, "cannot record batch for task \(task.id): it is a \(task.type) task")
        }
        return json(of: try service.recordBatch(id: id, task: task, start: start, stop: stop,
                                                cluster: body["cluster"]?.stringValue), fields: nil)
    }

    /// `start` (required) and `stop` (default now), RFC 3339.
    static func range(_ body: JSON) throws(APIError) -> (Int64, Int64) {
        guard let text = body["start"]?.stringValue, !text.isEmpty, let start = RFC3339Nano.parse(text) else {
            throw APIError(.badRequest, "must provide start time")
        }
        var stop = nowNanoseconds()
        if let text = body["stop"]?.stringValue, !text.isEmpty, !text.hasPrefix("0001-01-01T00:00:00") {
            guard let t = RFC3339Nano.parse(text) else { throw APIError(.badRequest, "invalid stop time \"\(text)\"") }
            stop = t
        }
        return (start, stop)
    }

    func recordQuery(_ body: JSON) throws(APIError) -> JSON {
        let id = try Self.identifier(body["id"]?.stringValue, what: "recording")
        guard let query = body["query"]?.stringValue, !query.isEmpty else { throw APIError(.badRequest, "must provide query") }
        let type = body["type"]?.stringValue ?? ""
        guard type == "stream" || type == "batch" else { throw APIError(.badRequest, "unknown TaskType \(type)") }
        return json(of: try service.recordQuery(id: id, query: query, type: type, cluster: body["cluster"]?.stringValue),
                    fields: nil)
    }

    func recording(_ id: String) throws(APIError) -> StoredRecording {
        var stored: StoredRecording?
        do { stored = try service.store.recording(id) } catch { throw APIError(.internalServerError, "\(error)") }
        if stored == nil {
            service.syncDirectory()
            stored = try? service.store.recording(id)
        }
        guard let stored else { throw APIError(.notFound, "error finding recording: no recording exists") }
        return stored
    }

    func listRecordings(_ query: FlatDictionary<Substring, Substring>) throws(APIError) -> JSON {
        service.syncDirectory()
        let (pattern, fields, offset, limit) = try Self.listParameters(query, all: Self.recordingFields)
        let all: [StoredRecording]
        do { all = try service.store.recordings() } catch { throw APIError(.internalServerError, "\(error)") }
        let page = all.filter { pattern.isEmpty || Glob.matches(pattern, $0.id) }.dropFirst(offset).prefix(limit)
        return .object([("recordings", .array(page.map { json(of: $0, fields: fields) }))])
    }

    static let recordingFields = ["link", "id", "type", "size", "date", "error", "status", "progress"]

    func json(of r: StoredRecording, fields: [String]?) -> JSON {
        var members: [(String, JSON)] = []
        for field in fields ?? Self.recordingFields {
            switch field {
            case "link": members.append(("link", Self.link("recordings", r.id)))
            case "id": members.append(("id", .string(r.id)))
            case "type": members.append(("type", .string(r.type)))
            case "size": members.append(("size", .int(r.size)))
            case "date": members.append(("date", .string(rfc3339Nano(r.date))))
            case "error": members.append(("error", .string(r.error)))
            case "status": members.append(("status", .string(r.status)))
            case "progress": members.append(("progress", .double(service.progress(of: r))))
            default: break
            }
        }
        return .object(members)
    }

    // MARK: Replays

    func createReplay(_ body: JSON) throws(APIError) -> JSON {
        let id = try Self.identifier(body["id"]?.stringValue, what: "replay")
        let clockReal = try Self.clock(body)
        let task = try task(body["task"]?.stringValue, prefix: "task load: ")
        let recordingID = body["recording"]?.stringValue ?? ""
        var stored: StoredRecording?
        do { stored = try service.store.recording(recordingID) } catch { throw APIError(.internalServerError, "\(error)") }
        if stored == nil {
            service.syncDirectory()
            stored = try? service.store.recording(recordingID)
        }
        guard let recording = stored else { throw APIError(.notFound, "recording not found: no recording exists") }
        switch recording.status {
        case "running": throw APIError(.badRequest, "recording \(recording.id) is still running: wait for it to finish")
        case "failed": throw APIError(.badRequest, "recording \(recording.id) failed, nothing to replay: \(recording.error)")
        default: break
        }
        guard recording.type == task.type else {
            throw APIError(.badRequest, "cannot replay \(recording.type) recording \(recording.id) against \(task.type) task \(task.id): found recording of wrong type, check task type matches recording")
        }
        let source: ReplaySource = recording.type == "batch" ? .batchFile(recording.dataPath) : .streamFile(recording.dataPath)
        let replay = try service.replay(id: id, task: task, recording: recording.id, source: source,
                                        recordingTime: body["recording-time"]?.boolValue ?? false, clockReal: clockReal)
        return json(of: replay, fields: nil)
    }

    func replayBatch(_ body: JSON) async throws -> JSON {
        let id = try Self.identifier(body["id"]?.stringValue, what: "replay")
        let clockReal = try Self.clock(body)
        let task = try task(body["task"]?.stringValue, prefix: "task load: ")
        if task.type == "stream" {
            throw APIError(.badRequest, "cannot replay batch against stream task: \(task.id)")
        }
        let (start, stop) = try Self.range(body)
        var entries: [[Batch]] = []
        do {
            for plan in try service.queryPlans(of: task) {
                entries.append(try await ReplayService.runQueries(plan, start: start, stop: stop,
                                                                  cluster: body["cluster"]?.stringValue, influxDB: service.influxDB))
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
        return json(of: try service.replay(id: id, task: task, recording: "", source: .batches(entries),
                                           recordingTime: body["recording-time"]?.boolValue ?? false, clockReal: clockReal),
                    fields: nil)
    }

    func replayQuery(_ body: JSON) async throws -> JSON {
        let id = try Self.identifier(body["id"]?.stringValue, what: "replay")
        guard let query = body["query"]?.stringValue, !query.isEmpty else { throw APIError(.badRequest, "must provide query") }
        let clockReal = try Self.clock(body)
        let task = try task(body["task"]?.stringValue, prefix: "task load: ")
        let batches: [Batch]
        let dbrp: DBRP
        do {
            (batches, dbrp) = try await ReplayService.runQuery(query, cluster: body["cluster"]?.stringValue,
                                                               influxDB: service.influxDB)
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
        let source: ReplaySource = task.type == "stream"
            ? .points(QueryResults.points(batches, database: dbrp.database, retentionPolicy: dbrp.retentionPolicy))
            : .batches([batches])
        return json(of: try service.replay(id: id, task: task, recording: "", source: source,
                                           recordingTime: body["recording-time"]?.boolValue ?? false, clockReal: clockReal),
                    fields: nil)
    }

    func listReplays(_ query: FlatDictionary<Substring, Substring>) throws(APIError) -> JSON {
        let (pattern, fields, offset, limit) = try Self.listParameters(query, all: Self.replayFields)
        let all: [StoredReplay]
        do { all = try service.store.replays() } catch { throw APIError(.internalServerError, "\(error)") }
        let page = all.filter { pattern.isEmpty || Glob.matches(pattern, $0.id) }.dropFirst(offset).prefix(limit)
        return .object([("replays", .array(page.map { json(of: $0, fields: fields) }))])
    }

    static let replayFields = ["link", "id", "recording", "task", "recording-time", "clock", "date", "error", "status", "progress"]

    func json(of r: StoredReplay, fields: [String]?) -> JSON {
        var members: [(String, JSON)] = []
        let live = r.status == "running" ? service.liveProgress(ofReplay: r.id) : nil
        for field in fields ?? Self.replayFields {
            switch field {
            case "link": members.append(("link", Self.link("replays", r.id)))
            case "id": members.append(("id", .string(r.id)))
            case "recording": members.append(("recording", .string(r.recording)))
            case "task": members.append(("task", .string(r.task)))
            case "recording-time": members.append(("recording-time", .bool(r.recordingTime)))
            case "clock": members.append(("clock", .string(r.clock)))
            case "date": members.append(("date", .string(rfc3339Nano(r.date))))
            case "error": members.append(("error", .string(r.error)))
            case "status": members.append(("status", .string(r.status)))
            case "progress": members.append(("progress", .double(live?.progress ?? r.progress)))
            default: break
            }
        }
        if fields == nil {
            if let live {
                members.append(("points", .int(Int64(live.fed))))
                members.append(("total-points", .int(Int64(live.total))))
            }
            members.append(("stats", (try? JSON.parse(Array(r.stats.utf8))) ?? .object([])))
            members.append(("results", (try? JSON.parse(Array(r.results.utf8))) ?? .object([])))
        }
        return .object(members)
    }

    // MARK: Helpers

    private func task(_ id: String?, prefix: String) throws(APIError) -> StoredTask {
        let stored: StoredTask?
        do { stored = try service.store.task(id ?? "") } catch { throw APIError(.internalServerError, "\(error)") }
        guard let stored else { throw APIError(.notFound, "\(prefix)no task exists") }
        return stored
    }

    static func clock(_ body: JSON) throws(APIError) -> Bool {
        switch body["clock"]?.stringValue ?? "fast" {
        case "fast": return false
        case "real": return true
        case let other: throw APIError(.badRequest, "invalid clock type \(other)")
        }
    }

    /// An ID as Kapacitor accepts one (letters, digits, `-`, `.`, `_`); a random one when none is given.
    static func identifier(_ id: String?, what: String) throws(APIError) -> String {
        guard let id, !id.isEmpty else { return UUID().uuidString.lowercased() }
        let valid = id.unicodeScalars.allSatisfy { s in
            s == "-" || s == "." || s == "_" || ("0"..."9").contains(s) || s.properties.isAlphabetic
        }
        guard valid else { throw APIError(.badRequest, "\(what) ID must contain only letters, numbers, '-', '.' and '_'. \"\(id)\"") }
        return id
    }

    static func link(_ kind: String, _ id: String) -> JSON {
        .object([("rel", .string("self")), ("href", .string("\(base)/\(kind)/\(id)"))])
    }

    /// `pattern`, `fields` (nil: all; else with `id` and `link`), `offset` and `limit` (default 100) of a list.
    static func listParameters(_ q: FlatDictionary<Substring, Substring>, all: [String])
        throws(APIError) -> (String, [String]?, Int, Int) {
        var fields: [String]? = nil
        let asked = q.getAll("fields").flatMap { $0.split(separator: ",").map(String.init) }
        if !asked.isEmpty {
            for f in asked where !all.contains(f) { throw APIError(.badRequest, "unsupported field \"\(f)\"") }
            fields = all.filter { asked.contains($0) || $0 == "id" || $0 == "link" }
        }
        func int(_ name: String, _ fallback: Int) throws(APIError) -> Int {
            guard let text = q.get(name), !text.isEmpty else { return fallback }
            guard let n = Int(text) else {
                throw APIError(.badRequest, "invalid \(name) parameter \"\(text)\" must be an integer")
            }
            return n
        }
        return (q.get("pattern") ?? "", fields, max(0, try int("offset", 0)), max(0, try int("limit", 100)))
    }
}
