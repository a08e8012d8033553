import Foundation

/// The thread that runs the engine's asynchronous I/O (influxDBOut's writes, batch queries): a `TaskExecutor` of its
/// own, so that this work never waits for Swift's cooperative thread pool.
///
/// A task's executor thread and some callers (a test, an API handler stopping a task) block while a node drains, and
/// the node's drain may need an `await` to resume: on the cooperative pool, which has one thread per core, enough
/// blocked callers would starve it. Start such work with `Task(executorPreference: IOExecutor.shared) { … }`; the
/// jobs are short (hand a request to the network, take its answer), and waiting happens off this thread.
public final class IOExecutor: TaskExecutor, @unchecked Sendable {
    /// The engine's one I/O thread.
    public static let shared = IOExecutor(name: "tock-engine-io")

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    /// A new executor with `threads` threads of its own named `name` (jobs run in order of arrival, one per thread
    /// at a time).
    public init(name: String, threads: Int = 1) {
        for i in 0..<max(1, threads) {
            let thread = Thread { [unowned self] in run() }
            thread.name = threads > 1 ? "\(name)-\(i)" : name
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
