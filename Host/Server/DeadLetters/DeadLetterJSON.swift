import Alerting
import Engine
import Foundation
import TockModel

/// Dead letters as the API shows them and the store keeps them.
///
/// The API object: `id`, `time`, `task`, `node`, `topic`, `handler`, `kind`, `options`, `reason`, `detail`,
/// `attempts` and `event` (Kapacitor's alert JSON, as an HTTP post handler would have received it). The stored object
/// adds `replay`: the event and the options with every type kept (ints apart from floats, durations, the grouping),
/// so that a replay sends exactly the event that was given up.
enum DeadLetterJSON {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The API's object of `letter`.
    static func api(_ letter: DeadLetter, link: String) -> JSON {
        let event = (try? JSON.parse(Array(letter.event.json.utf8))) ?? .string(letter.event.json)
        return .object([
            ("link", .object([("rel", .string("self")), ("href", .string(link))])),
            ("id", .int(letter.id)),
            ("time", .string(rfc3339Nano(letter.time))),
            ("task", .string(letter.origin.task)),
            ("node", .string(letter.origin.node)),
            ("topic", .string(letter.origin.topic)),
            ("handler", .string(letter.handler)),
            ("kind", .string(letter.origin.kind)),
            ("options", .object(letter.origin.options.sorted { $0.key < $1.key }.map { ($0.key, plain($0.value)) })),
            ("reason", .string(letter.reason.rawValue)),
            ("detail", .string(letter.detail)),
            ("attempts", .int(Int64(letter.attempts))),
            ("event", event),
        ])
    }

    /// The stored text of `letter`: the API object (without its link) and the typed `replay` member.
    static func stored(_ letter: DeadLetter) -> String {
        guard case .object(var members) = api(letter, link: "") else { return "" }
        members.removeAll { $0.0 == "link" || $0.0 == "id" }
        members.append(("replay", .object([
            ("event", event(letter.event)),
            ("options", .object(letter.origin.options.sorted { $0.key < $1.key }.map { ($0.key, typed($0.value)) })),
        ])))
        return JSON.object(members).serialized
    }

    /// A letter from its stored text; the error names what is missing or malformed.
    static func letter(stored text: String, id: Int64, time: Int64) throws(Failure) -> DeadLetter {
        let json: JSON
        do { json = try JSON.parse(Array(text.utf8)) } catch { throw Failure(description: "dead letter \(id) is not JSON: \(error)") }
        func string(_ key: String) throws(Failure) -> String {
            guard let s = json[key]?.stringValue else { throw Failure(description: "dead letter \(id) has no \(key)") }
            return s
        }
        guard let reason = DeadLetter.Reason(rawValue: try string("reason")) else {
            throw Failure(description: "dead letter \(id) has an unknown reason \(json["reason"]?.serialized ?? "")")
        }
        guard let replay = json["replay"], let eventJSON = replay["event"] else {
            throw Failure(description: "dead letter \(id) has no replay.event")
        }
        var options: [String: HandlerOption] = [:]
        for (key, value) in replay["options"]?.objectValue ?? [] { options[key] = try option(value, at: "replay.options.\(key)", id: id) }
        let origin = DeliveryOrigin(task: try string("task"), node: try string("node"), topic: try string("topic"),
                                    kind: try string("kind"), options: options)
        return DeadLetter(id: id, time: time, handler: try string("handler"), origin: origin,
                          event: try event(eventJSON, id: id), reason: reason, detail: try string("detail"),
                          attempts: Int(json["attempts"]?.int64Value ?? 0))
    }

    // MARK: Options

    /// An option as a plain JSON value (durations as Go duration strings).
    static func plain(_ o: HandlerOption) -> JSON {
        switch o {
        case .string(let s): .string(s)
        case .int(let i): .int(i)
        case .float(let f): .double(f)
        case .bool(let b): .bool(b)
        case .duration(let ns): .string(GoDuration.format(ns))
        case .list(let items): .array(items.map(plain))
        case .object(let o): .object(o.sorted { $0.key < $1.key }.map { ($0.key, plain($0.value)) })
        }
    }

    /// `[TYPE, VALUE]`, lists and objects holding typed values.
    static func typed(_ o: HandlerOption) -> JSON {
        switch o {
        case .string(let s): .array([.string("string"), .string(s)])
        case .int(let i): .array([.string("int"), .int(i)])
        case .float(let f): .array([.string("float"), .double(f)])
        case .bool(let b): .array([.string("bool"), .bool(b)])
        case .duration(let ns): .array([.string("duration"), .int(ns)])
        case .list(let items): .array([.string("list"), .array(items.map(typed))])
        case .object(let o): .array([.string("object"), .object(o.sorted { $0.key < $1.key }.map { ($0.key, typed($0.value)) })])
        }
    }

    static func option(_ json: JSON, at path: String, id: Int64) throws(Failure) -> HandlerOption {
        guard let pair = json.arrayValue, pair.count == 2, let type = pair[0].stringValue else {
            throw Failure(description: "dead letter \(id): \(path) must be [TYPE, VALUE]")
        }
        let v = pair[1]
        switch (type, v) {
        case ("string", .string(let s)): return .string(s)
        case ("int", .int(let i)): return .int(i)
        case ("float", _) where v.doubleValue != nil: return .float(v.doubleValue!)
        case ("bool", .bool(let b)): return .bool(b)
        case ("duration", .int(let ns)): return .duration(ns)
        case ("list", .array(let items)):
            var out: [HandlerOption] = []
            for (i, item) in items.enumerated() { out.append(try option(item, at: "\(path)[\(i)]", id: id)) }
            return .list(out)
        case ("object", .object(let members)):
            var out: [String: HandlerOption] = [:]
            for (k, item) in members { out[k] = try option(item, at: "\(path).\(k)", id: id) }
            return .object(out)
        default: throw Failure(description: "dead letter \(id): \(path) is not a valid \(type)")
        }
    }

    // MARK: Events

    static func event(_ e: AlertEvent) -> JSON {
        var members: [(String, JSON)] = [
            ("id", .string(e.id)), ("message", .string(e.message)), ("details", .string(e.details)),
            ("time", .int(e.time)), ("duration", .int(e.duration)), ("level", .int(Int64(e.level.rawValue))),
            ("previousLevel", .int(Int64(e.previousLevel.rawValue))), ("recoverable", .bool(e.recoverable)),
            ("taskName", .string(e.taskName)), ("name", .string(e.name)), ("group", .string(e.group.rawValue)),
            ("tags", tags(e.tags)), ("fields", fields(e.fields)), ("data", message(e.data)),
        ]
        if let category = e.category { members.append(("category", .string(category))) }
        return .object(members)
    }

    static func event(_ j: JSON, id: Int64) throws(Failure) -> AlertEvent {
        func fail(_ what: String) -> Failure { Failure(description: "dead letter \(id): replay.event.\(what) is missing or malformed") }
        guard let eventID = j["id"]?.stringValue, let time = j["time"]?.int64Value,
              let level = j["level"]?.int64Value.flatMap({ AlertLevel(rawValue: Int($0)) }),
              let previous = j["previousLevel"]?.int64Value.flatMap({ AlertLevel(rawValue: Int($0)) }) else {
            throw fail("id, time or level")
        }
        guard let dataJSON = j["data"] else { throw fail("data") }
        return AlertEvent(id: eventID, message: j["message"]?.stringValue ?? "", details: j["details"]?.stringValue ?? "",
                          time: time, duration: j["duration"]?.int64Value ?? 0, level: level, previousLevel: previous,
                          recoverable: j["recoverable"]?.boolValue ?? true, data: try message(dataJSON, id: id),
                          taskName: j["taskName"]?.stringValue ?? "", name: j["name"]?.stringValue ?? "",
                          group: GroupID(j["group"]?.stringValue ?? ""), tags: tags(j["tags"]),
                          fields: try fields(j["fields"], id: id), category: j["category"]?.stringValue)
    }

    static func tags(_ t: Tags) -> JSON { .object(t.map { (key: String, value: String) -> (String, JSON) in (key, .string(value)) }) }

    static func tags(_ j: JSON?) -> Tags {
        Tags((j?.objectValue ?? []).compactMap { (k: String, v: JSON) -> (String, String)? in v.stringValue.map { (k, $0) } })
    }

    static func fields(_ f: Fields) -> JSON {
        .object(f.map { (key: String, value: FieldValue) -> (String, JSON) in
            let typed: JSON = switch value {
            case .double(let d): .array([.string("float"), .double(d)])
            case .int(let i): .array([.string("integer"), .int(i)])
            case .uint(let u): .array([.string("unsigned"), .string(String(u))])
            case .string(let s): .array([.string("string"), .string(s)])
            case .bool(let b): .array([.string("boolean"), .bool(b)])
            }
            return (key, typed)
        })
    }

    static func fields(_ j: JSON?, id: Int64) throws(Failure) -> Fields {
        var out: [(String, FieldValue)] = []
        for (key, v) in j?.objectValue ?? [] {
            guard let pair = v.arrayValue, pair.count == 2, let type = pair[0].stringValue else {
                throw Failure(description: "dead letter \(id): field \(key) must be [TYPE, VALUE]")
            }
            switch (type, pair[1]) {
            case ("float", let x) where x.doubleValue != nil: out.append((key, .double(x.doubleValue!)))
            case ("integer", .int(let i)): out.append((key, .int(i)))
            case ("unsigned", .string(let s)) where UInt64(s) != nil: out.append((key, .uint(UInt64(s)!)))
            case ("string", .string(let s)): out.append((key, .string(s)))
            case ("boolean", .bool(let b)): out.append((key, .bool(b)))
            default: throw Failure(description: "dead letter \(id): field \(key) is not a valid \(type)")
            }
        }
        return Fields(out)
    }

    static func message(_ m: Message) -> JSON {
        switch m {
        case .point(let p):
            return .object([
                ("point", .string(p.name)), ("tags", tags(p.tags)), ("fields", fields(p.fields)), ("time", .int(p.time)),
                ("database", .string(p.database)), ("retentionPolicy", .string(p.retentionPolicy)),
                ("group", .string(p.group.rawValue)), ("byName", .bool(p.dimensions.byName)),
                ("dimensions", .array(p.dimensions.tagNames.map { .string($0) })),
            ])
        case .batch(let b):
            return .object([
                ("batch", .string(b.name)), ("tags", tags(b.tags)), ("tmax", .int(b.tmax)),
                ("group", .string(b.group.rawValue)), ("byName", .bool(b.dimensions.byName)),
                ("dimensions", .array(b.dimensions.tagNames.map { .string($0) })),
                ("points", .array(b.points.map { .object([("time", .int($0.time)), ("fields", fields($0.fields)), ("tags", tags($0.tags))]) })),
            ])
        }
    }

    static func message(_ j: JSON, id: Int64) throws(Failure) -> Message {
        let dimensions = Dimensions(byName: j["byName"]?.boolValue ?? false,
                                    tagNames: (j["dimensions"]?.arrayValue ?? []).compactMap(\.stringValue))
        let group = GroupID(j["group"]?.stringValue ?? "")
        if let name = j["point"]?.stringValue {
            return .point(Point(name: name, tags: tags(j["tags"]), fields: try fields(j["fields"], id: id),
                                time: j["time"]?.int64Value ?? 0, database: j["database"]?.stringValue ?? "",
                                retentionPolicy: j["retentionPolicy"]?.stringValue ?? "", group: group, dimensions: dimensions))
        }
        guard let name = j["batch"]?.stringValue else {
            throw Failure(description: "dead letter \(id): replay.event.data is neither a point nor a batch")
        }
        var points: [BatchPoint] = []
        for p in j["points"]?.arrayValue ?? [] {
            points.append(BatchPoint(time: p["time"]?.int64Value ?? 0, fields: try fields(p["fields"], id: id), tags: tags(p["tags"])))
        }
        return .batch(Batch(name: name, group: group, tags: tags(j["tags"]), dimensions: dimensions,
                            tmax: j["tmax"]?.int64Value ?? 0, points: points))
    }
}
