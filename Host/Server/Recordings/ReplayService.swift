import Engine
import Foundation
import Logging
import Recording
import Storage
import TICKScript
import TockModel

/// Kapacitor's replay service: recordings (stream, batch, query) saved as `.srpl`/`.brpl` files in `[replay] dir`
/// with their metadata in the store, and replays of them against a separate copy of a task
/// (services/replay/service.go).
///
/// Recordings and replays run in the background; their status (`running`, `finished`, `failed`), error and
/// progress are in the store, so a client polls `GET /recordings/ID` or `/replays/ID`.
final class ReplayService: @unchecked Sendable {
    let master: TaskMaster
    let directory: String
    /// InfluxDB for `record query|batch` and replays' queries and `influxDBOut` (the daemon's `[[influxdb]]`
    /// clusters); `nil`: none configured.
    var influxDB: (any InfluxDBService)? { master.influxDB }
    private let lock = NSLock()
    private var recorders: [String: StreamRecorder] = [:]
    private var queries: [String: Task<Void, Never>] = [:]
    private var replays: [String: ReplayRun] = [:]

    static let streamExtension = ".srpl"
    static let batchExtension = ".brpl"

    init(master: TaskMaster, directory: String) {
        self.master = master
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            master.log.error("cannot create the replay directory", metadata: [
                "dir": .string(directory), "err": "\(error)",
            ])
        }
        do {
            let marked = try store.failRunningRecordingsAndReplays(reason: "unexpected Kapacitor shutdown")
            if marked > 0 { master.log.warning("marked recordings and replays of the last run failed", metadata: [
                "count": "\(marked)",
            ]) }
        } catch {
            master.log.error("cannot read recordings", metadata: ["err": "\(error)"])
        }
        syncDirectory()
    }

    var store: Store { master.store }

    /// Adds recording files found in the directory without metadata (a file copied there, from Kapacitor or
    /// another Tock), as Kapacitor's `syncRecordingMetadata` does.
    func syncDirectory() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names.sorted() {
            let type: String
            if name.hasSuffix(Self.streamExtension) { type = "stream" } else if name.hasSuffix(Self.batchExtension) { type = "batch" } else { continue }
            let id = String(name.dropLast(5))
            guard !id.isEmpty, (try? store.recording(id)) == .some(nil) else { continue }
            let path = (directory as NSString).appendingPathComponent(name)
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            let modified = (attributes?[.modificationDate] as? Date) ?? Date()
            let recording = StoredRecording(id: id, type: type, size: size, date: Int64(modified.timeIntervalSince1970 * 1e9),
                                            status: "finished", progress: 1, dataPath: path)
            do { try store.save(recording) } catch {
                master.log.error("cannot save recording metadata", metadata: [
                    "recording": .string(id), "err": "\(error)",
                ])
            }
        }
    }

    func path(id: String, type: String) -> String {
        (directory as NSString).appendingPathComponent(id + (type == "batch" ? Self.batchExtension : Self.streamExtension))
    }

    // MARK: Recording

    /// Starts `record stream`: the task's dbrps are recorded until `stop` (ns).
    func recordStream(id: String, task: StoredTask, stop: Int64) throws(APIError) -> StoredRecording {
        let now = nowNanoseconds()
        let path = path(id: id, type: "stream")
        var recording = StoredRecording(id: id, type: "stream", date: now, status: "running", dataPath: path)
        try save(recording, new: true)
        let dbrps = Set(TaskAPI.dbrps(of: task).map { DBRP($0.db, $0.rp) })
        let recorder: StreamRecorder
        do {
            recorder = try StreamRecorder(id: id, path: path, dbrps: dbrps, stop: stop, started: now) { [weak self] recorder, failure in
                self?.finishStream(recorder, failure)
            }
        } catch {
            recording.status = "failed"
            recording.error = "\(error)"
            try? store.save(recording)
            throw APIError(.internalServerError, "\(error)")
        }
        lock.lock()
        recorders[id] = recorder
        lock.unlock()
        master.taps.add(recorder)
        master.log.info("recording stream", metadata: [
            "recording": .string(id), "task": .string(task.id), "stop": .string(rfc3339Nano(stop)),
        ])
        let wait = max(0, stop - now)
        Task.detached { [weak recorder] in
            try? await Task.sleep(nanoseconds: UInt64(wait))
            recorder?.end()
        }
        return recording
    }

    private func finishStream(_ recorder: StreamRecorder, _ failure: (any Error)?) {
        master.taps.remove(recorder)
        lock.lock()
        recorders[recorder.id] = nil
        lock.unlock()
        finish(recordingID: recorder.id, failure)
    }

    /// Starts `record query`: the query's result saved as a stream or batch recording.
    func recordQuery(id: String, query: String, type: String, cluster: String?) throws(APIError) -> StoredRecording {
        let path = path(id: id, type: type)
        let recording = StoredRecording(id: id, type: type, date: nowNanoseconds(), status: "running", dataPath: path)
        try save(recording, new: true)
        let influxDB = self.influxDB
        let task = Task.detached { [weak self] in
            var failure: (any Error)?
            do {
                let (batches, dbrp) = try await Self.runQuery(query, cluster: cluster, influxDB: influxDB)
                if type == "stream" {
                    let writer = try StreamRecordingWriter(path: path)
                    for p in QueryResults.points(batches, database: dbrp.database, retentionPolicy: dbrp.retentionPolicy) {
                        try writer.write(p)
                    }
                    try writer.close()
                } else {
                    let writer = try BatchRecordingWriter(path: path)
                    try writer.addEntry(batches)
                    try writer.close()
                }
            } catch {
                failure = error
            }
            self?.queryEnded(id, failure)
        }
        lock.lock()
        queries[id] = task
        lock.unlock()
        return recording
    }

    private func queryEnded(_ id: String, _ failure: (any Error)?) {
        lock.lock()
        queries[id] = nil
        lock.unlock()
        finish(recordingID: id, failure)
    }

    /// Runs a fully qualified query on the cluster; its series as batches, and the query's database and
    /// retention policy.
    static func runQuery(_ query: String, cluster: String?, influxDB: (any InfluxDBService)?) async throws -> ([Batch], DBRP) {
        let dbrp = try QueryResults.dbrp(of: query)
        guard let influxDB else { throw ReplayFailure("no InfluxDB configured ([[influxdb]]): cannot record query") }
        let series: [QuerySeries]
        do {
            series = try await influxDB.query(InfluxQuery(cluster: cluster.flatMap { $0.isEmpty ? nil : $0 }, text: query))
        } catch {
            throw ReplayFailure("InfluxDB query failed: \(error)")
        }
        return (try QueryResults.batches(series), dbrp)
    }

    /// Starts `record batch`: the task's batch queries over `[start, stop]`, one archive entry per query node.
    func recordBatch(id: String, task: StoredTask, start: Int64, stop: Int64, cluster: String?) throws(APIError) -> StoredRecording {
        let plans = try queryPlans(of: task)
        let path = path(id: id, type: "batch")
        let recording = StoredRecording(id: id, type: "batch", date: nowNanoseconds(), status: "running", dataPath: path)
        try save(recording, new: true)
        let influxDB = self.influxDB
        let task = Task.detached { [weak self] in
            var failure: (any Error)?
            do {
                let writer = try BatchRecordingWriter(path: path)
                for plan in plans {
                    try writer.addEntry(try await Self.runQueries(plan, start: start, stop: stop, cluster: cluster, influxDB: influxDB))
                }
                try writer.close()
            } catch {
                failure = error
            }
            self?.queryEnded(id, failure)
        }
        lock.lock()
        queries[id] = task
        lock.unlock()
        return recording
    }

    /// What each `query` node of the batch task runs (Kapacitor's `BatchQueries`).
    func queryPlans(of task: StoredTask) throws(APIError) -> [BatchQueryPlan] {
        let program = try master.program(of: task)
        var builder = TaskBuilder(taskID: task.id, udfProvider: master.udfProvider, execPolicy: master.execPolicy)
        builder.configSections = master.configSections
        builder.influxDB = influxDB
        builder.batchSourceMode = .recorded
        builder.alertService = master.alertService
        builder.ingress = ReplayIngress(taskDBRPs: task.dbrps.map { DBRP($0.db, $0.rp) })
        do {
            return try builder.build(program).queryPlans
        } catch let error as ScriptError {
            throw APIError(.badRequest, error.rendered(source: task.script))
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
    }

    /// The batches one query node would have emitted over `[start, stop]`: each of its queries in the range run on
    /// InfluxDB (`cluster`, when given, instead of the node's).
    static func runQueries(_ plan: BatchQueryPlan, start: Int64, stop: Int64, cluster: String?,
                           influxDB: (any InfluxDBService)?) async throws -> [Batch] {
        guard let influxDB else { throw ReplayFailure("no InfluxDB configured ([[influxdb]]): cannot record batch query") }
        var batches: [Batch] = []
        for q in plan.queries(from: start, to: stop, now: nowNanoseconds()) {
            try Task.checkCancellation()
            var query = q.query
            if let cluster, !cluster.isEmpty { query.cluster = cluster }
            let series: [QuerySeries]
            do { series = try await influxDB.query(query) } catch {
                throw ReplayFailure("InfluxDB query failed: \(error)")
            }
            batches += plan.batches(series, start: q.start, stop: q.stop).filter { !$0.points.isEmpty }
        }
        return batches
    }

    /// Records the end of a recording: finished (or failed with the error), its size and date.
    private func finish(recordingID id: String, _ failure: (any Error)?) {
        guard var recording = try? store.recording(id) else { return }
        recording.status = failure == nil ? "finished" : "failed"
        recording.error = failure.map { "\($0)" } ?? ""
        recording.progress = 1
        recording.date = nowNanoseconds()
        let attributes = try? FileManager.default.attributesOfItem(atPath: recording.dataPath)
        recording.size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
        do { try store.save(recording) } catch {
            master.log.error("cannot save recording metadata", metadata: ["recording": .string(id), "err": "\(error)"])
        }
        if let failure {
            master.log.error("recording failed", metadata: ["recording": .string(id), "err": "\(failure)"])
        } else {
            master.log.info("recording finished", metadata: ["recording": .string(id), "size": "\(recording.size)"])
        }
    }

    /// The recording's progress while it runs (from the running recorder), else the stored one.
    func progress(of recording: StoredRecording) -> Double {
        guard recording.status == "running" else { return recording.progress }
        lock.lock()
        let recorder = recorders[recording.id]
        lock.unlock()
        return recorder?.progress ?? recording.progress
    }

    /// Deletes the recording's metadata and file; a running recording is stopped first.
    func deleteRecording(_ id: String) throws(APIError) {
        lock.lock()
        let recorder = recorders[id]
        let query = queries.removeValue(forKey: id)
        lock.unlock()
        recorder?.end()
        query?.cancel()
        let recording: StoredRecording?
        do { recording = try store.recording(id) } catch { throw APIError(.internalServerError, "\(error)") }
        guard let recording else { return }
        do { try store.deleteRecording(id) } catch { throw APIError(.internalServerError, "\(error)") }
        if FileManager.default.fileExists(atPath: recording.dataPath) {
            do { try FileManager.default.removeItem(atPath: recording.dataPath) } catch {
                throw APIError(.internalServerError, "cannot remove \(recording.dataPath): \(error.localizedDescription)")
            }
        }
    }

    // MARK: Replaying

    /// Starts a replay of `source` against a copy of `task`.
    func replay(id: String, task: StoredTask, recording: String, source: ReplaySource, recordingTime: Bool,
                clockReal: Bool) throws(APIError) -> StoredReplay {
        let program = try master.program(of: task)
        var replay = StoredReplay(id: id, task: task.id, recording: recording, recordingTime: recordingTime,
                                  clock: clockReal ? "real" : "fast", date: nowNanoseconds(), status: "running")
        do {
            if try store.replay(id) != nil { throw APIError(.badRequest, "replay \(id) already exists") }
            try store.save(replay)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internalServerError, "\(error)")
        }
        let run = ReplayRun(id: id, clockReal: clockReal, recordingTime: recordingTime)
        lock.lock()
        replays[id] = run
        lock.unlock()
        let log = master.log
        let udfs = master.udfProvider.map { ReplayUDFProvider(inner: $0, replayID: id, taskID: task.id) }
        let dbrps = task.dbrps.map { DBRP($0.db, $0.rp) }
        var options = TaskRunner.Options(taskID: task.id, dbrps: dbrps, udfProvider: udfs, execPolicy: master.execPolicy)
        options.configSections = master.configSections
        options.influxDB = influxDB
        options.alertService = master.alertService
        options.ingress = ReplayIngress(taskDBRPs: dbrps)
        options.batchSourceMode = .recorded
        let taskOptions = options
        let handlers = run.handlers(logger: log.with("replay", id).with("task", task.id))
        log.info("replay started", metadata: [
            "replay": .string(id), "task": .string(task.id), "recording": .string(recording),
        ])
        let thread = Thread { [self] in
            var failure: (any Error)?
            var stats = "{}"
            do {
                let runner: TaskRunner
                do {
                    runner = try TaskRunner(program: program, options: taskOptions, handlers: handlers)
                    try runner.start()
                } catch let error as ScriptError {
                    throw ReplayFailure("task start: \(error.rendered(source: task.script))")
                } catch {
                    throw ReplayFailure("task start: \(error)")
                }
                defer { stats = taskStatisticsJSON(runner.stats()).serialized }
                try run.run(source, into: runner)
            } catch {
                failure = error
            }
            udfs?.cleanUp()
            lock.lock()
            replays[id] = nil
            lock.unlock()
            guard var stored = (try? store.replay(id)) ?? nil else { return }
            stored.status = failure == nil ? "finished" : "failed"
            stored.error = failure.map { "\($0)" } ?? ""
            stored.progress = 1
            stored.date = nowNanoseconds()
            stored.stats = stats
            stored.results = run.resultsJSON()
            do { try store.save(stored) } catch {
                log.error("cannot save replay", metadata: ["replay": .string(id), "err": "\(error)"])
            }
            if let failure { log.error("replay failed", metadata: ["replay": .string(id), "err": "\(failure)"]) }
            else { log.info("replay finished", metadata: ["replay": .string(id)]) }
        }
        thread.name = "tock-replay-\(id)"
        thread.stackSize = 4 << 20
        thread.start()
        replay.progress = 0
        return replay
    }

    /// A running replay's (progress, points fed, points in all); nil when it is not running.
    func liveProgress(ofReplay id: String) -> (progress: Double, fed: Int, total: Int)? {
        lock.lock()
        let run = replays[id]
        lock.unlock()
        guard let run else { return nil }
        let c = run.counts
        return (run.progress, c.fed, c.total)
    }

    /// Deletes a replay; a running one is cancelled.
    func deleteReplay(_ id: String) throws(APIError) {
        lock.lock()
        let run = replays[id]
        lock.unlock()
        run?.cancel()
        do { try store.deleteReplay(id) } catch { throw APIError(.internalServerError, "\(error)") }
    }

    private func save(_ recording: StoredRecording, new: Bool) throws(APIError) {
        do {
            if new, try store.recording(recording.id) != nil {
                throw APIError(.badRequest, "recording \(recording.id) already exists")
            }
            try store.save(recording)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internalServerError, "\(error)")
        }
    }
}
