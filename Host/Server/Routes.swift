import Alerting
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Storage

/// The daemon's HTTP API: `/write`, `/ping`, `/metrics` and Kapacitor's `/kapacitor/v1` resources.
public struct TockAPI: Sendable {
    public static let version = "1.7.0-tock"
    let master: TaskMaster
    let metrics: Metrics
    let write: WriteHandler
    let tasks: TaskAPI
    let hostname: String
    let started = nowNanoseconds()
    let log: Logger
    let logRequests: Bool
    let users: UserAPI
    /// `/recordings` and `/replays`.
    let recordings: RecordingsAPI
    /// Checks credentials when `[http] auth-enabled` is on; nil when every request is let through.
    let authenticator: Authenticator?
    /// With `auth-enabled`: what InfluxDB's subscriptions write with (``SubscriptionTokens``).
    let subscriptionTokens: SubscriptionTokens?
    let defaultRetentionPolicy: String
    /// `/config` and `/service-tests`.
    let configRoutes: ConfigRoutes
    /// The host inventory (`/hosts`, `/locations`); nil when `[hosts] enabled = false` or its table cannot be read.
    let hosts: HostInventory?
    /// The inputs besides `/write`: `[[udp]]`, subscriptions and the collectors (whose counts the statistics read).
    let ingest: Ingest

    public init(master: TaskMaster, configuration: ServerConfiguration) {
        self.users = UserAPI(store: master.store)
        self.configRoutes = ConfigRoutes(master: master, configuration: configuration)
        self.authenticator = configuration.authEnabled ? Authenticator(store: master.store) : nil
        var tokens: SubscriptionTokens?
        if configuration.authEnabled {
            do { tokens = try SubscriptionTokens.load(dataDirectory: configuration.dataDirectory) } catch {
                master.log.error("InfluxDB subscriptions cannot write to Tock: no subscription key", metadata: [
                    "err": "\(error)",
                ])
            }
        }
        self.subscriptionTokens = tokens
        self.defaultRetentionPolicy = configuration.defaultRetentionPolicy
        self.master = master
        self.metrics = master.metrics
        var hosts: HostInventory?
        if configuration.hosts.enabled {
            do { hosts = try HostInventory(store: master.store, settings: configuration.hosts) } catch {
                master.log.error("host inventory disabled: cannot read the hosts", metadata: ["err": "\(error)"])
            }
        }
        self.hosts = hosts
        self.write = WriteHandler(master: master, metrics: master.metrics,
                                  defaultRetentionPolicy: configuration.defaultRetentionPolicy,
                                  maxBodySize: configuration.maxBodySize, readTimeout: configuration.readTimeout, hosts: hosts)
        self.ingest = Ingest(handler: write, log: master.log)
        self.tasks = TaskAPI(master: master)
        self.recordings = RecordingsAPI(service: ReplayService(master: master, directory: configuration.resolvedReplayDirectory))
        self.hostname = configuration.hostname
        self.log = master.log
        self.logRequests = configuration.logRequests
    }

    /// The router wrapped so that every answer carries `X-Kapacitor-Version` and every error is `{"error": …}`.
    public func responder() -> some HTTPResponder<BasicRequestContext> {
        TockResponder(inner: router().buildResponder(), log: log, logRequests: logRequests, auth: authenticator,
                      subscriptions: subscriptionTokens, defaultRetentionPolicy: defaultRetentionPolicy)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let base = TaskAPI.base
        for path in ["/ping", "\(base)/ping", "\(TaskAPI.previewBase)/ping"] {
            router.get(RouterPath(path)) { _, _ in Response(status: .noContent) }
            router.head(RouterPath(path)) { _, _ in Response(status: .noContent) }
        }
        for path in ["/write", "\(base)/write"] {
            router.post(RouterPath(path)) { request, _ in try await write.handle(request) }
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: prometheus())))
        }
        router.get("\(base)/debug/vars") { _, _ in try Self.json(debugVars()) }
        // Kapacitor's sideload service: reads every sideload source in use again.
        router.post("\(base)/sideload/reload") { _, _ in
            do throws(SideloadError) {
                try SideloadSources.shared.reload()
            } catch {
                throw APIError(.internalServerError, error.message)
            }
            return Response(status: .noContent)
        }

        router.get("\(base)/tasks") { request, _ in
            let q = request.uri.queryParameters
            let fields = q.getAll("fields").flatMap { $0.split(separator: ",").map(String.init) }
            return try Self.json(tasks.list(pattern: q.get("pattern").flatMap { $0.isEmpty ? nil : $0 }, fields: fields,
                                            offset: Int(q.get("offset") ?? "") ?? 0, limit: Int(q.get("limit") ?? "") ?? 100))
        }
        router.post("\(base)/tasks") { request, _ in try Self.json(tasks.create(await Self.body(request))) }
        router.get("\(base)/tasks/:id") { _, context in try Self.json(tasks.get(context.parameters.require("id"))) }
        router.patch("\(base)/tasks/:id") { request, context in
            try Self.json(tasks.update(context.parameters.require("id"), await Self.body(request)))
        }
        router.delete("\(base)/tasks/:id") { _, context in
            let id = try context.parameters.require("id")
            try tasks.delete(id)
            // Kapacitor deletes a deleted task's anonymous topics (their event states) with it.
            (master.alertService as? AlertingService)?.topics.removeAnonymous(ofTask: id)
            return Response(status: .noContent)
        }
        router.get("\(base)/tasks/:id/:endpoint") { _, context in
            let id = try context.parameters.require("id")
            let endpoint = try context.parameters.require("endpoint")
            let result = master.httpOutResult(task: id, endpoint: endpoint)
            guard result.running else { throw APIError(.notFound, "task \(id) is not running: no endpoint \(endpoint)") }
            return Self.jsonText(result.json ?? "{\"series\":null}")
        }

        router.get("\(base)/templates") { request, _ in
            let q = request.uri.queryParameters
            return try Self.json(tasks.listTemplates(pattern: q.get("pattern").flatMap { $0.isEmpty ? nil : $0 },
                                                     offset: Int(q.get("offset") ?? "") ?? 0,
                                                     limit: Int(q.get("limit") ?? "") ?? 100))
        }
        router.post("\(base)/templates") { request, _ in try Self.json(tasks.createTemplate(await Self.body(request))) }
        router.get("\(base)/templates/:id") { _, context in try Self.json(tasks.getTemplate(context.parameters.require("id"))) }
        router.patch("\(base)/templates/:id") { request, context in
            try Self.json(tasks.updateTemplate(context.parameters.require("id"), await Self.body(request)))
        }
        router.delete("\(base)/templates/:id") { _, context in
            try tasks.deleteTemplate(context.parameters.require("id"))
            return Response(status: .noContent)
        }
        users.register(on: router)
        recordings.register(on: router)
        configRoutes.register(on: router)
        if let hosts { HostAPI(inventory: hosts).register(on: router) }
        if let alerting = master.alertService as? AlertingService {
            SilenceAPI(silences: alerting.silences).register(on: router)
            TopicAPI(alerting: alerting, store: master.store).register(on: router)
            DeadLetterAPI(alerting: alerting, log: log).register(on: router)
        }
        // Chronograf's log viewer: the daemon's log from now on, chunked, one line per chunk; query pairs select the
        // lines whose fields match (`?task=cpu`). JSON when the request says `Content-Type: application/json`.
        router.get("\(TaskAPI.previewBase)/logs") { request, _ in
            var match: [String: String] = [:]
            for (key, value) in request.uri.queryParameters {
                let k = String(key), v = String(value)
                if match[k] != nil { throw APIError(.badRequest, "query params cannot contain duplicate pairs") }
                match[k] = v
            }
            let json = request.headers[.contentType]?.lowercased().hasPrefix("application/json") ?? false
            let lines = try logOutput().follow(match: match, json: json)
            return Response(status: .ok, headers: [.contentType: json ? "application/json" : "text/plain; charset=utf-8"],
                            body: ResponseBody(asyncSequence: lines.map { ByteBuffer(string: $0) }))
        }
        router.post("\(base)/loglevel") { request, _ in
            let body = try await Self.body(request)
            guard let level = body["level"]?.stringValue,
                  ["debug", "info", "warn", "error"].contains(level.lowercased()) else {
                throw APIError(.badRequest, "invalid log level: use debug, info or error")
            }
            try logOutput().level = Logger.Level(configured: level)
            return Response(status: .noContent)
        }
        return router
    }

    /// Where the daemon's logger writes, for following the log and changing its level.
    func logOutput() throws(APIError) -> LogOutput {
        guard let output = (log.handler as? TockLogHandler)?.output else {
            throw APIError(.notImplemented, "the daemon logs through another log handler than Tock's")
        }
        return output
    }

    // MARK: Self-monitoring

    /// The daemon's statistics, shared by debug/vars and the `[stats]` service.
    var statistics: DaemonStatistics { DaemonStatistics(master: master, hosts: hosts, ingest: ingest, hostname: hostname, started: started) }

    func debugVars() throws(APIError) -> JSON {
        let global: DaemonStatistics.Global
        do { global = try statistics.global() } catch { throw APIError(.internalServerError, "\(error)") }
        return .object([
            ("cluster_id", .string("")),
            ("server_id", .string("")),
            ("host", .string(hostname)),
            ("product", .string("kapacitor")),
            ("platform", .string("Tock")),
            ("version", .string(Self.version)),
            ("num_tasks", .int(Int64(global.numTasks))),
            ("num_enabled_tasks", .int(Int64(global.numEnabledTasks))),
            ("num_subscriptions", .int(Int64(global.numSubscriptions))),
            ("uptime", .int(Int64(global.uptime))),
            ("kapacitor", .object(statistics.all().map { ($0.key, $0.json) })),
        ])
    }

    /// Every metric of the daemon in Prometheus text exposition format, after copying in what the tasks and
    /// alert handlers count.
    func prometheus() -> String {
        statistics.sampleMetrics()
        return metrics.registry.emitToString()
    }

    // MARK: Helpers

    static func body(_ request: Request) async throws -> JSON {
        var request = request
        let buffer = try await request.collectBody(upTo: 16 << 20)
        let bytes = Array(buffer.readableBytesView)
        if bytes.isEmpty { return .object([]) }
        do { return try JSON.parse(bytes) } catch {
            throw APIError(.badRequest, "invalid JSON body: \(error)")
        }
    }

    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        jsonText(value.serialized, status: status)
    }

    static func jsonText(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}

/// Adds `X-Kapacitor-Version` to every answer and turns every error into `{"error": …}` with its status.
struct TockResponder<Inner: HTTPResponder<BasicRequestContext>>: HTTPResponder {
    typealias Context = BasicRequestContext
    let inner: Inner
    let log: Logger
    let logRequests: Bool
    let auth: Authenticator?
    let subscriptions: SubscriptionTokens?
    let defaultRetentionPolicy: String
    static var versionHeader: HTTPField.Name { HTTPField.Name("X-Kapacitor-Version")! }

    func respond(to request: Request, context: Context) async throws -> Response {
        var response: Response
        do {
            if auth != nil, let tokens = subscriptions, let token = try Self.subscriptionToken(request) {
                // An InfluxDB subscription: its token names the one database and retention policy it may write.
                let query = request.uri.queryParameters
                let database = query.get("db") ?? ""
                var rp = query.get("rp") ?? ""
                if rp.isEmpty { rp = defaultRetentionPolicy.isEmpty ? "autogen" : defaultRetentionPolicy }
                guard Permission.required(method: request.method, path: request.uri.path) == .write,
                      tokens.permits(token, database: database, retentionPolicy: rp) else {
                    throw APIError(.forbidden, "the subscription token does not grant \(request.method) \(request.uri.path) to \"\(database)\".\"\(rp)\"")
                }
                response = try await inner.respond(to: request, context: context)
            } else if let auth, let needed = Permission.required(method: request.method, path: request.uri.path) {
                let user = try auth.authenticate(request)
                if !user.has(needed) && !(needed == .admin && UserAPI.isOwn(path: request.uri.path, user: user.name)) {
                    throw APIError(.forbidden, "user \(user.name) does not have the \(needed.rawValue) permission needed for \(request.method) \(request.uri.path)")
                }
                response = try await RequestUser.$current.withValue(user) {
                    try await inner.respond(to: request, context: context)
                }
            } else {
                response = try await inner.respond(to: request, context: context)
            }
            if response.status == .notFound && response.headers[.contentType] == nil {
                // The router's own answer for a path no route matches.
                response = Self.error("not found: \(request.method) \(request.uri.path)", status: .notFound)
            }
        } catch let error as APIError {
            response = Self.error(error.message, status: .init(code: error.status.rawValue))
        } catch let error as HTTPError {
            let message = error.status == .notFound ? "not found: \(request.method) \(request.uri.path)"
                : error.body ?? error.status.reasonPhrase
            response = Self.error(message, status: error.status)
        } catch {
            response = Self.error("\(error)", status: .internalServerError)
        }
        response.headers[Self.versionHeader] = TockAPI.version
        if logRequests {
            log.debug("http request", metadata: [
                "method": "\(request.method)", "path": .string(request.uri.path), "status": "\(response.status.code)",
            ])
        }
        return response
    }

    /// The token of a request made as ``SubscriptionTokens/user``, or nil when it is made as anyone else.
    static func subscriptionToken(_ request: Request) throws(APIError) -> String? {
        guard case .password(let user, let password)? = try Authenticator.credentials(of: request),
              user == SubscriptionTokens.user else { return nil }
        return password
    }

    static func error(_ message: String, status: HTTPResponse.Status) -> Response {
        TockAPI.json(.object([("error", .string(message))]), status: status)
    }
}
