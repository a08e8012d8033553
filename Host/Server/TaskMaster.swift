import Alerting
import Engine
import Foundation
import Logging
import PluginHost
import Storage
import TICKScript
import TockModel

/// The tasks of the daemon: their stored definitions and, for enabled ones, their running pipelines.
///
/// Every change is written to the ``Store`` before it takes effect and before the caller answers the client,
/// so what a client was told survives a crash. A definition that does not build (a script error, unknown
/// vars) is refused and leaves the stored task as it was.
public final class TaskMaster: @unchecked Sendable {
    let store: Store
    let udfProvider: (any UDFProvider)?
    let metrics: Metrics
    let log: Logger
    /// The tasks' alert levels, written to the store behind them.
    let alertStates: AlertStateJournal
    /// The programs alert `.exec()` handlers of API-defined tasks may start.
    let execPolicy: ExecPolicy
    /// `[[httppost]]` endpoints and `[deadman]` defaults for the tasks' scripts.
    let configSections: ConfigSections
    /// The `[[influxdb]]` clusters batch tasks query (and `influxDBOut` writes to); `nil` when none is configured,
    /// which refuses batch tasks at enable. Set before ``startEnabledTasks()``.
    public var influxDB: (any InfluxDBService)?
    /// Where alert nodes send their events: the daemon's `AlertingService` (from its configuration); until it is set,
    /// one with every service's defaults. Set before ``startEnabledTasks()``.
    public var alertService: (any AlertService)? = TaskMaster.defaultAlertService
    /// An `AlertingService` with every service's defaults, shared by masters that were given none.
    static let defaultAlertService: (any AlertService)? = try? AlertingService()
    /// Stream recordings: every path that delivers points to the tasks hands them here too.
    public let taps = PointTaps()

    private let lock = NSLock()
    private var running: [String: TaskRunner] = [:]
    private var startErrors: [String: String] = [:]
    private var httpOut: [String: [String: HTTPOutResult]] = [:]
    /// The enabled stream tasks by database and retention policy, rebuilt on every change: `/write` reads it.
    private var routes: [DBRP: StreamRoute] = [:]

    /// - Parameter influxDB: the clusters tasks query and write to; `nil` refuses `query` and `influxDBOut`.
    /// - Parameter execPolicy: by default no `.exec()` program is allowed (`[alert] exec-allowed` empty).
    public init(store: Store, udfProvider: (any UDFProvider)? = nil, metrics: Metrics = Metrics(), log: Logger,
                execPolicy: ExecPolicy = ServerConfiguration().execPolicy, configSections: ConfigSections = ConfigSections(),
                influxDB: (any InfluxDBService)? = nil) {
        self.influxDB = influxDB
        self.execPolicy = execPolicy
        self.configSections = configSections
        self.store = store
        self.udfProvider = udfProvider
        self.metrics = metrics
        self.log = log
        alertStates = AlertStateJournal(store: store, log: log)
    }

    /// Starts every stored task whose status is enabled (at boot). A task that fails to start stays enabled
    /// with its error shown by the API.
    public func startEnabledTasks() throws(StoreError) {
        for task in try store.tasks() where task.status == "enabled" {
            do {
                try start(task)
                log.info("started task", metadata: ["task": .string(task.id)])
            } catch {
                log.error("failed to start task", metadata: ["task": .string(task.id), "err": "\(error)"])
            }
        }
    }

    /// Stops every running task, draining what they hold (UDF children included).
    public func stopAll() {
        lock.lock()
        let all = running
        running = [:]
        routes = [:]
        lock.unlock()
        for (id, runner) in all.sorted(by: { $0.key < $1.key }) {
            do { try runner.stop() } catch {
                log.error("task ended with an error", metadata: ["task": .string(id), "err": "\(error)"])
            }
        }
        alertStates.flush()
    }

    // MARK: Writes

    /// The running stream tasks that read `database`.`retentionPolicy`, and how a write reaches each of them.
    func route(database: String, retentionPolicy: String) -> StreamRoute {
        lock.lock()
        defer { lock.unlock() }
        return routes[DBRP(database, retentionPolicy)] ?? .empty
    }

    // MARK: Queries

    struct TaskState {
        var stored: StoredTask
        var runner: TaskRunner?
        var error: String
    }

    func state(of task: StoredTask) -> TaskState {
        lock.lock()
        let runner = running[task.id]
        var error = startErrors[task.id] ?? ""
        lock.unlock()
        if let runner, case let (true, failure?) = runner.state { error = "\(failure)" }
        return TaskState(stored: task, runner: runner, error: error)
    }

    /// The last result an `httpOut` node of the task published; `nil` when the task is not running.
    func httpOutResult(task: String, endpoint: String) -> (running: Bool, json: String?) {
        lock.lock()
        defer { lock.unlock() }
        guard running[task] != nil else { return (false, nil) }
        return (true, httpOut[task]?[endpoint]?.json)
    }

    /// Counts of tasks: all and enabled.
    func counts() throws(StoreError) -> (tasks: Int, enabled: Int) {
        let all = try store.tasks()
        return (all.count, all.filter { $0.status == "enabled" }.count)
    }

    /// Restarts of the task's UDF processes so far, by node (empty without UDFs).
    func udfRestarts(task: String) -> [String: Int] {
        (udfProvider as? UDFRegistry)?.restartCounts(taskID: task) ?? [:]
    }

    func runningSnapshot() -> [(id: String, runner: TaskRunner)] {
        lock.lock()
        defer { lock.unlock() }
        return running.keys.sorted().map { ($0, running[$0]!) }
    }

    // MARK: Changes

    /// Checks that `task` builds: its script parses, its vars apply and its pipeline is valid.
    /// - Returns: the pipeline's DOT graph (without counters) and the script's own dbrps.
    func validate(_ task: StoredTask) throws(APIError) -> (dot: String, type: String, scriptDBRPs: [DBRP]) {
        let program = try program(of: task)
        let pipeline: Pipeline
        do {
            var builder = TaskBuilder(taskID: task.id, udfProvider: udfProvider, execPolicy: execPolicy)
            builder.configSections = configSections
            builder.influxDB = influxDB
            builder.alertService = alertService
            builder.ingress = LoopbackIngress(master: self, taskDBRPs: task.dbrps.map { DBRP($0.db, $0.rp) })
            pipeline = try builder.build(program)
        } catch let error as ScriptError {
            throw APIError(.badRequest, error.rendered(source: task.script))
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
        let type = pipeline.nodes.first?.method ?? "stream"
        return (pipeline.dot(name: task.id), type, pipeline.dbrps)
    }

    func program(of task: StoredTask) throws(APIError) -> Program {
        do {
            let vars = try TaskVars.parse(JSON.parse(Array(task.vars.utf8)))
            return try Program.parse(task.script).applying(vars: vars)
        } catch let error as ScriptError {
            throw APIError(.badRequest, error.rendered(source: task.script))
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, "invalid vars: \(error)")
        }
    }

    /// Saves `task` and brings its running state in line with its status: starts it when enabled (restarting
    /// it when it already ran), stops it when disabled. When it cannot start, the stored task is put back.
    func apply(_ task: StoredTask, previous: StoredTask?) throws(APIError) {
        var task = task
        if task.status == "enabled" && previous?.status != "enabled" { task.lastEnabled = nowNanoseconds() }
        do { try store.save(task) } catch { throw APIError(.internalServerError, "\(error)") }
        stop(task.id)
        guard task.status == "enabled" else { return }
        do {
            try start(task)
        } catch {
            lock.lock()
            startErrors[task.id] = nil
            lock.unlock()
            if let previous {
                try? store.save(previous)
                if previous.status == "enabled" { try? start(previous) }
            } else {
                try? store.deleteTask(task.id)
            }
            throw APIError(.badRequest, "failed to start task \(task.id): \(error)")
        }
    }

    /// Stops and deletes the task; deleting a task that does not exist is not an error.
    func delete(_ id: String) throws(APIError) {
        stop(id)
        alertStates.forget(taskID: id)
        do { try store.deleteTask(id) } catch { throw APIError(.internalServerError, "\(error)") }
        lock.lock()
        startErrors[id] = nil
        lock.unlock()
    }

    /// Builds and starts the task. Whatever stops it — a script that no longer parses or builds (a stored task
    /// from before a check was added), a node that does not start — is kept as the task's error for the API.
    private func start(_ task: StoredTask) throws {
        let taskID = task.id
        let program: Program
        do {
            program = try self.program(of: task)
        } catch {
            lock.lock()
            startErrors[taskID] = "\(error)"
            lock.unlock()
            throw error
        }
        let handlers = TaskRunner.Handlers(
            event: { [weak self] node, event in
                guard let self else { return }
                switch event {
                case .httpOut(let endpoint, _, let result):
                    self.lock.lock()
                    self.httpOut[taskID, default: [:]][endpoint] = result
                    self.lock.unlock()
                case .alert(let json):
                    self.log.debug("alert", metadata: [
                        "task": .string(taskID), "node": .string(node), "event": .string(json),
                    ])
                }
            },
            logger: log.with("task", taskID))
        let dbrps = task.dbrps.map { DBRP($0.db, $0.rp) }
        let runner: TaskRunner
        do {
            var options = TaskRunner.Options(taskID: taskID, dbrps: dbrps, udfProvider: udfProvider, execPolicy: execPolicy)
            options.alertStates = alertStates
            options.configSections = configSections
            options.influxDB = influxDB
            options.alertService = alertService
            options.ingress = LoopbackIngress(master: self, taskDBRPs: dbrps)
            runner = try TaskRunner(program: program, options: options, handlers: handlers)
            try runner.start()
        } catch {
            lock.lock()
            startErrors[taskID] = "\(error)"
            lock.unlock()
            throw error
        }
        lock.lock()
        running[taskID] = runner
        startErrors[taskID] = nil
        httpOut[taskID] = [:]
        rebuildRoutes()
        lock.unlock()
    }

    private func stop(_ id: String) {
        lock.lock()
        let runner = running.removeValue(forKey: id)
        httpOut[id] = nil
        rebuildRoutes()
        lock.unlock()
        guard let runner else { return }
        do { try runner.stop() } catch {
            log.error("task ended with an error", metadata: ["task": .string(id), "err": "\(error)"])
        }
    }

    /// Call with `lock` held.
    private func rebuildRoutes() {
        var runners: [DBRP: [TaskRunner]] = [:]
        for id in running.keys.sorted() {
            let runner = running[id]!
            guard !runner.pipeline.streamSources.isEmpty else { continue }
            for d in Set(runner.dbrps) { runners[d, default: []].append(runner) }
        }
        routes = runners.mapValues(StreamRoute.init)
    }
}
