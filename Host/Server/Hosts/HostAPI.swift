import Engine
import Foundation
import Hummingbird
import TockModel

/// `/kapacitor/v1/hosts` and `/kapacitor/v1/locations`: the host inventory (a Tock extension; Kapacitor has none).
///
/// - `GET …/hosts` lists hosts, filtered by `location=L`, `unassigned=true` (reporting, no location) and
///   `silent=5m` (no point for 5m, or never reported at all).
/// - `POST …/hosts` with `{"host": H, "location"?: L, "labels"?: {…}}` creates a host that has not reported yet.
/// - `GET/PATCH/DELETE …/hosts/H`: one host; PATCH takes `{"location": L, "labels": {"k": "v"}}`, a null (or an
///   empty location) removes.
/// - `GET …/hosts/H/metrics?measurement=M&field=F&start=T&stop=T` (or `past=1h`): the host's recent series.
/// - `GET …/locations`: the locations and their hosts; `GET …/locations/L/metrics?…`: per host of L, its series.
struct HostAPI: Sendable {
    static let path = TaskAPI.base + "/hosts"
    static let locationsPath = TaskAPI.base + "/locations"
    let inventory: HostInventory

    func register(on router: Router<BasicRequestContext>) {
        router.get(RouterPath(Self.path)) { request, _ in
            let now = nowNanoseconds()
            var location: String?, unassigned = false, silent: Int64?
            for (k, v) in request.uri.queryParameters {
                let key = String(k), value = String(v)
                switch key {
                case "location": location = value
                case "unassigned":
                    guard let b = Bool(value) else { throw APIError(.badRequest, "unassigned must be true or false, got \"\(value)\"") }
                    unassigned = b
                case "silent":
                    guard let d = GoDuration.parse(value), d >= 0 else {
                        throw APIError(.badRequest, "silent must be a duration such as \"5m\", got \"\(value)\"")
                    }
                    silent = d
                default:
                    throw APIError(.badRequest, "unknown host filter \"\(key)\" (known: location, unassigned, silent)")
                }
            }
            let hosts = inventory.all().filter { h in
                if let location, h.location != location { return false }
                if unassigned && (h.assigned || !h.reported) { return false }
                if let silent, h.reported && now - h.lastSeen < silent { return false }
                return true
            }
            let href = Self.path + (request.uri.query.map { "?" + $0 } ?? "")
            return TockAPI.json(.object([("link", Self.link("self", href)),
                                         ("hosts", .array(hosts.map { Self.json($0, now: now, silentAfter: inventory.settings.silentAfter) }))]))
        }
        router.post(RouterPath(Self.path)) { request, _ in
            let body = try await TockAPI.body(request)
            guard let name = body["host"]?.stringValue else { throw APIError(.badRequest, "the request must name the host: {\"host\": \"name\", …}") }
            let change = try Self.change(body, allowing: ["host"])
            let record = try Self.run { () throws(HostError) in
                try inventory.update(name, create: true, now: nowNanoseconds(), change)
            }
            return TockAPI.json(Self.json(record, now: nowNanoseconds(), silentAfter: inventory.settings.silentAfter))
        }
        router.get(RouterPath(Self.path + "/:host")) { _, context in
            let name = try context.parameters.require("host")
            guard let record = inventory.host(name) else { throw APIError(.notFound, "host \(name) does not exist") }
            return TockAPI.json(Self.json(record, now: nowNanoseconds(), silentAfter: inventory.settings.silentAfter))
        }
        router.patch(RouterPath(Self.path + "/:host")) { request, context in
            let name = try context.parameters.require("host")
            let change = try Self.change(try await TockAPI.body(request), allowing: [])
            let record = try Self.run { () throws(HostError) in
                try inventory.update(name, create: false, now: nowNanoseconds(), change)
            }
            return TockAPI.json(Self.json(record, now: nowNanoseconds(), silentAfter: inventory.settings.silentAfter))
        }
        router.delete(RouterPath(Self.path + "/:host")) { _, context in
            let name = try context.parameters.require("host")
            try Self.run { () throws(HostError) in try inventory.delete(name) }
            return Response(status: .noContent)
        }
        router.get(RouterPath(Self.path + "/:host/metrics")) { request, context in
            let name = try context.parameters.require("host")
            guard inventory.host(name) != nil else { throw APIError(.notFound, "host \(name) does not exist") }
            let q = try Self.metricsQuery(request)
            let series = inventory.metrics.query(host: name, measurement: q.measurement, field: q.field, start: q.start, stop: q.stop)
            return TockAPI.json(.object([
                ("link", Self.link("self", Self.path + "/\(name)/metrics" + (request.uri.query.map { "?" + $0 } ?? ""))),
                ("host", .string(name)), ("measurement", .string(q.measurement)),
                ("start", .string(rfc3339Nano(q.start))), ("stop", .string(rfc3339Nano(q.stop))),
                ("series", .array(series.map(Self.json))),
            ]))
        }
        router.get(RouterPath(Self.locationsPath)) { _, _ in
            var byLocation: [String: [String]] = [:]
            for h in inventory.all() where h.assigned { byLocation[h.location, default: []].append(h.name) }
            return TockAPI.json(.object([
                ("link", Self.link("self", Self.locationsPath)),
                ("locations", .array(byLocation.keys.sorted().map { location in
                    .object([("link", Self.link("self", Self.locationsPath + "/\(location)")), ("location", .string(location)),
                             ("hosts", .array(byLocation[location]!.map { .string($0) }))])
                })),
            ]))
        }
        router.get(RouterPath(Self.locationsPath + "/:location/metrics")) { request, context in
            let location = try context.parameters.require("location")
            let q = try Self.metricsQuery(request)
            let hosts = inventory.all().filter { $0.location == location }
            return TockAPI.json(.object([
                ("link", Self.link("self", Self.locationsPath + "/\(location)/metrics" + (request.uri.query.map { "?" + $0 } ?? ""))),
                ("location", .string(location)), ("measurement", .string(q.measurement)),
                ("start", .string(rfc3339Nano(q.start))), ("stop", .string(rfc3339Nano(q.stop))),
                ("hosts", .array(hosts.map { h in
                    let series = inventory.metrics.query(host: h.name, measurement: q.measurement, field: q.field,
                                                         start: q.start, stop: q.stop)
                    return .object([("link", Self.link("self", Self.path + "/\(h.name)")), ("host", .string(h.name)),
                                    ("series", .array(series.map(Self.json)))])
                })),
            ]))
        }
    }

    // MARK: Requests

    /// The change a PATCH (or POST) body asks for; unknown keys and values of the wrong type are refused.
    static func change(_ body: JSON, allowing extra: Set<String>) throws(APIError) -> @Sendable (inout HostRecord) -> Void {
        guard let members = body.objectValue else { throw APIError(.badRequest, "the request body must be a JSON object") }
        var location: String??
        var labels: [(String, String?)] = []
        for (key, value) in members {
            switch key {
            case "location":
                if value == .null { location = .some(nil); continue }
                guard let s = value.stringValue else { throw APIError(.badRequest, "location must be a string or null, got \(value.serialized)") }
                location = .some(s)
            case "labels":
                guard let object = value.objectValue else {
                    throw APIError(.badRequest, "labels must be an object of strings, got \(value.serialized)")
                }
                for (k, v) in object {
                    guard !k.isEmpty, !k.contains("=") else { throw APIError(.badRequest, "label name \"\(k)\" must be non-empty and without =") }
                    if v == .null { labels.append((k, nil)); continue }
                    guard let s = v.stringValue else {
                        throw APIError(.badRequest, "label \(k) must be a string or null, got \(v.serialized)")
                    }
                    labels.append((k, s))
                }
            default:
                guard extra.contains(key) else {
                    throw APIError(.badRequest, "unknown host setting \"\(key)\" (known: location, labels\(extra.isEmpty ? "" : ", " + extra.sorted().joined(separator: ", ")))")
                }
            }
        }
        let newLocation = location, newLabels = labels
        return { record in
            if let newLocation { record.location = newLocation ?? "" }
            for (k, v) in newLabels { record.labels[k] = v }
        }
    }

    struct MetricsQuery {
        var measurement: String
        var field: String?
        var start: Int64
        var stop: Int64
    }

    static func metricsQuery(_ request: Request) throws(APIError) -> MetricsQuery {
        var measurement: String?, field: String?, start: Int64?, stop: Int64?, past: Int64?
        for (k, v) in request.uri.queryParameters {
            let key = String(k), value = String(v)
            switch key {
            case "measurement": measurement = value
            case "field": field = value.isEmpty ? nil : value
            case "start", "stop":
                guard let t = RFC3339Nano.parse(value) else { throw APIError(.badRequest, "\(key) \"\(value)\" is not an RFC 3339 time") }
                if key == "start" { start = t } else { stop = t }
            case "past":
                guard let d = GoDuration.parse(value), d > 0 else {
                    throw APIError(.badRequest, "past must be a positive duration such as \"1h\", got \"\(value)\"")
                }
                past = d
            default:
                throw APIError(.badRequest, "unknown metrics parameter \"\(key)\" (known: measurement, field, start, stop, past)")
            }
        }
        guard let measurement, !measurement.isEmpty else { throw APIError(.badRequest, "measurement is required: ?measurement=cpu") }
        let end = stop ?? nowNanoseconds()
        if past != nil && start != nil { throw APIError(.badRequest, "give start or past, not both") }
        let begin = start ?? end - (past ?? GoDuration.hour)
        guard begin <= end else { throw APIError(.badRequest, "start \(rfc3339Nano(begin)) is after stop \(rfc3339Nano(end))") }
        return MetricsQuery(measurement: measurement, field: field, start: begin, stop: end)
    }

    static func run<T>(_ body: () throws(HostError) -> T) throws(APIError) -> T {
        do { return try body() } catch {
            switch error.kind {
            case .notFound: throw APIError(.notFound, error.description)
            case .exists: throw APIError(.conflict, error.description)
            case .invalid: throw APIError(.badRequest, error.description)
            case .storage: throw APIError(.internalServerError, error.description)
            }
        }
    }

    // MARK: Answers

    static func link(_ rel: String, _ href: String) -> JSON { .object([("rel", .string(rel)), ("href", .string(href))]) }

    static func time(_ ns: Int64) -> JSON { ns > 0 ? .string(rfc3339Nano(ns)) : .null }

    /// A host in Kapacitor's style: a self link, RFC 3339 times (null: never).
    static func json(_ h: HostRecord, now: Int64, silentAfter: Int64) -> JSON {
        .object([
            ("link", link("self", path + "/\(h.name)")),
            ("host", .string(h.name)),
            ("location", .string(h.location)),
            ("labels", .object(h.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("status", .string(h.status(now: now, silentAfter: silentAfter))),
            ("assigned", .bool(h.assigned)),
            ("reported", .bool(h.reported)),
            ("silent-seconds", .double(h.silentSeconds(now: now))),
            ("created", time(h.created)),
            ("first-seen", time(h.firstSeen)),
            ("last-seen", time(h.lastSeen)),
            ("points", .int(h.points)),
            ("last-database", .string(h.lastDatabase)),
            ("reported-location", .string(h.reportedLocation)),
            ("agent-version", .string(h.agentVersion)),
            ("agent", HostInventory.fieldsJSON(h.agent)),
            ("facts", HostInventory.fieldsJSON(h.facts)),
        ])
    }

    /// A series as InfluxDB answers one: name, tags, columns `time` and the field, values `[time, value]`.
    static func json(_ s: MetricSeries) -> JSON {
        .object([
            ("name", .string(s.measurement)),
            ("tags", .object(s.tags.map { ($0.key, .string($0.value)) })),
            ("columns", .array([.string("time"), .string(s.field)])),
            ("values", .array(s.samples.map { .array([.string(rfc3339Nano($0.time)), .double($0.value)]) })),
        ])
    }
}
