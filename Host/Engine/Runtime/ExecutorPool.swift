import Foundation

/// Something an ``ExecutorPool`` runs in slices: a task's executor.
protocol PoolClient: AnyObject, Sendable {
    /// Runs one bounded slice of the client's queued work on the calling pool thread; returns whether work is left,
    /// in which case the pool puts the client back at the end of its ready queue (behind every other ready client).
    func runSlice() -> Bool
}

/// The threads that run tasks: a fixed number of threads (one per core by default) shared by every task, instead of
/// a thread per task.
///
/// A task with work queued is *ready*: it waits in the pool's first-in first-out ready queue until a thread takes
/// it, runs one slice of its work (a bounded number of messages, see ``TaskRunner``) and, when it has more, goes back
/// to the end of the queue, so that a task with a big backlog cannot hold a thread while others wait. A task is in
/// the queue at most once and runs on one thread at a time: its nodes see its messages in order, one at a time. An
/// idle task is in no queue and holds no thread.
///
/// Work on the pool must not block for long: a task whose nodes block (a UDF waiting for its child) runs on a
/// dedicated one-thread pool of its own instead (``TaskRunner/start()`` chooses), and I/O goes to ``IOExecutor``.
public final class ExecutorPool: @unchecked Sendable {
    /// The pool every task runs on unless it was given another one.
    public static let shared = ExecutorPool(name: "tock-exec", threads: defaultThreadCount)

    /// One thread per core (at least two, so that one long slice cannot stall every other task).
    public static var defaultThreadCount: Int { max(2, ProcessInfo.processInfo.activeProcessorCount) }

    /// The number of threads.
    public let threadCount: Int

    private let condition = NSCondition()
    private var ready = RingQueue<any PoolClient>()
    private var shuttingDown = false
    private var running: Int

    /// Starts `threads` threads named `name-0`, `name-1`… (just `name` for one).
    public init(name: String, threads: Int, stackSize: Int = 16 << 20) {
        threadCount = max(1, threads)
        running = threadCount
        for i in 0..<threadCount {
            let thread = Thread { [self] in work() }
            thread.name = threadCount > 1 ? "\(name)-\(i)" : name
            thread.stackSize = stackSize
            thread.start()
        }
    }

    /// Puts `client` at the end of the ready queue. The caller makes sure a client is in the queue at most once.
    func schedule(_ client: any PoolClient) {
        condition.lock()
        ready.append(client)
        condition.signal()
        condition.unlock()
    }

    /// Lets the threads end once nothing is ready any more (a task's dedicated pool, when the task has ended).
    func shutdown() {
        condition.lock()
        shuttingDown = true
        condition.broadcast()
        condition.unlock()
    }

    /// Threads of the pool still running.
    var runningThreads: Int { condition.withLock { running } }

    private func work() {
        while true {
            condition.lock()
            while ready.isEmpty && !shuttingDown { condition.wait() }
            guard let client = ready.popFirst() else {
                running -= 1
                condition.unlock()
                return
            }
            condition.unlock()
            let marker = Unmanaged.passUnretained(client as AnyObject).toOpaque()
            CurrentExecutor.set(marker)
            let more = client.runSlice()
            CurrentExecutor.set(nil)
            if more { schedule(client) }
        }
    }
}

/// Which task's slice the current thread is running: the "am I on this task's executor" test that used to compare
/// thread IDs, now that a task has no thread of its own.
enum CurrentExecutor {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static func set(_ client: UnsafeMutableRawPointer?) { pthread_setspecific(key, client) }

    /// The client whose slice runs on this thread; `nil` off the executors.
    static var current: UnsafeMutableRawPointer? { pthread_getspecific(key) }

    /// Whether the calling thread runs `client`'s slice now.
    static func isRunning(_ client: AnyObject) -> Bool {
        current == Unmanaged.passUnretained(client).toOpaque()
    }

    /// Whether the calling thread is an executor thread running some task's slice (which must never wait for another
    /// task's progress: that task may need this very thread).
    static var onExecutor: Bool { current != nil }
}

/// CPU time the calling thread has used, in nanoseconds.
@inline(__always)
func threadCPUNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
