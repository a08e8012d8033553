import Logging
import Engine
import Synchronization
import TockModel

/// What one handler's queue has done so far.
public struct DeliveryStats: Sendable, Hashable {
    /// Events delivered.
    public var sent = 0
    /// Attempts made again after a retryable failure.
    public var retried = 0
    /// Events given up: refused by the receiver (permanent) or still failing after the last attempt.
    public var failed = 0
    /// Events dropped unsent because the queue was full (the oldest waiting one each time).
    public var dropped = 0
    /// Events waiting now (the one being attempted not included).
    public var queued = 0
    /// Events given up and recorded as dead letters (refused, retries exhausted, pushed out of a full queue, or
    /// still pending when the queue was cancelled).
    public var deadLettered = 0
    /// Times an event waited for the handler's rate limit.
    public var rateLimited = 0

    public init() {}
}

/// One handler's way to its receiver: a bounded FIFO of events delivered one at a time and in order by one task.
///
/// Each attempt is bounded by ``DeliverySettings/timeout`` (the attempt's task is cancelled and the queue moves on
/// even if the sender ignores the cancellation); a retryable failure is attempted again after an exponential
/// backoff (or the receiver's `Retry-After`) up to ``DeliverySettings/retryMaxAttempts``; a permanent one is not.
/// ``collect(_:)`` never waits: when the queue is full the oldest waiting event is dropped, counted and logged.
///
/// Every collected event is delivered or given to ``deadLetters`` with its reason: refused, retries exhausted,
/// pushed out of a full queue, or still pending when ``cancel()`` stops the queue. With a rate limit
/// (``DeliverySettings/rateLimit(forKind:)``) events over it wait in the queue for their turn.
public final class DeliveryQueue: Sendable {
    /// The handler's destination, as its sender describes it.
    public let sender: any AlertSender
    public let settings: DeliverySettings
    /// The handler's task, node, topic, kind and options, for its dead letters.
    public let origin: DeliveryOrigin
    /// Where given-up events go; `nil`: they are only counted and logged.
    public let deadLetters: DeadLetterOffice?
    /// The limit this handler delivers under, if any.
    public let rateLimit: RateLimit?
    private let logger: Logger
    private let state = Mutex(State())
    private let worker = Mutex<Task<Void, Never>?>(nil)

    private struct State {
        var pending: [(seq: Int, event: AlertEvent)] = []
        var head = 0
        var nextSeq = 0
        /// The event being delivered and whether its first attempt is over (it is being retried then).
        var inFlight: (seq: Int, retrying: Bool)?
        var closed = false
        var idle: CheckedContinuation<Void, Never>?
        var drains: [(target: Int, done: @Sendable () -> Void)] = []
        var stats = DeliveryStats()
        var finished: [@Sendable () -> Void] = []
        var ended = false

        var waiting: Int { pending.count - head }

        /// Whether everything up to `target` had its first attempt, or waits behind an event being retried (the
        /// receiver is failing: waiting longer would hold the task for as long as it stays down).
        func settled(through target: Int) -> Bool {
            if let inFlight { return inFlight.retrying || inFlight.seq > target }
            let lowest = waiting > 0 ? pending[head].seq : nextSeq
            return lowest > target
        }
    }

    /// The threads every queue's work runs on: deliveries never wait for Swift's cooperative pool, which callers that
    /// block (a task's executor stopping, a test, an API handler) can fill. Senders are asynchronous and their blocking
    /// work goes to ``offload(_:)``; several threads keep one sender that blocks anyway from holding up the others.
    static let executor = IOExecutor(name: "tock-alert-delivery", threads: 8)

    /// Starts the queue's task. `logger` gets every failure, retry, give-up and drop, naming the handler (give the
    /// task and node, or the topic and handler, as its metadata).
    /// `origin` names the handler in dead letters (and picks its kind's rate limit); `deadLetters` receives every event
    /// given up.
    public init(sender: any AlertSender, settings: DeliverySettings = DeliverySettings(),
                origin: DeliveryOrigin = DeliveryOrigin(task: "", node: "", topic: "", kind: ""),
                deadLetters: DeadLetterOffice? = nil, logger: Logger = .discarding) {
        self.sender = sender
        self.settings = settings
        self.origin = origin
        self.deadLetters = deadLetters
        self.rateLimit = settings.rateLimit(forKind: origin.limitKind)
        self.logger = logger
        let task = Task(executorPreference: Self.executor) { [self] in await self.run() }
        worker.withLock { $0 = task }
    }

    /// Whether ``close()`` or ``cancel()`` was called: the queue takes no more events.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Whether the queue's task has ended: closed, and every event delivered or given up.
    public var isFinished: Bool { state.withLock { $0.ended } }

    /// The counters so far.
    public var stats: DeliveryStats {
        state.withLock { s in
            var stats = s.stats
            stats.queued = s.waiting
            return stats
        }
    }

    /// Queues `event` and returns at once. A full queue drops its oldest waiting event first (a dead letter); a closed
    /// queue takes nothing (the event becomes a dead letter).
    public func collect(_ event: AlertEvent) {
        let (wake, droppedEvent, droppedCount) = state.withLock { s -> (CheckedContinuation<Void, Never>?, AlertEvent?, Int) in
            guard !s.closed else { return (nil, event, -1) }
            var dropped: AlertEvent?
            if s.waiting >= settings.queueSize {
                dropped = s.pending[s.head].event
                s.head += 1
                s.stats.dropped += 1
            }
            s.pending.append((s.nextSeq, event))
            s.nextSeq += 1
            if s.head > 256 && s.head * 2 > s.pending.count {
                s.pending.removeFirst(s.head)
                s.head = 0
            }
            let wake = s.idle
            s.idle = nil
            return (wake, dropped, s.stats.dropped)
        }
        if droppedCount < 0 {
            return deadLetter(event, .stopped, "the handler had stopped when the event came", attempts: 0)
        }
        if let droppedEvent {
            if droppedCount == 1 || droppedCount % 100 == 0 {
                logger.error("alert handler \(sender.description): queue full (\(settings.queueSize) events waiting), dropped the oldest event \(droppedEvent.id) at \(RFC3339Nano.format(droppedEvent.time)) (\(droppedCount) dropped so far)")
            }
            deadLetter(droppedEvent, .queueFull, "queue full: \(settings.queueSize) events were waiting", attempts: 0)
        }
        wake?.resume()
        if droppedEvent != nil { fireDrains() }
    }

    /// Calls `done` once every event collected so far has had its first attempt (or was dropped), or waits behind
    /// an event being retried.
    public func drain(_ done: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            let target = s.nextSeq - 1
            if s.settled(through: target) { return true }
            s.drains.append((target, done))
            return false
        }
        if now { done() }
    }

    /// No more events come: the queue delivers what it holds (with its retries) and its task ends.
    public func close() {
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.closed = true
            let wake = s.idle
            s.idle = nil
            return wake
        }
        wake?.resume()
    }

    /// Stops at once: waiting events become dead letters (reason `stopped`) and the attempt in progress is cancelled
    /// (its event too becomes a dead letter unless that attempt succeeds).
    public func cancel() {
        let left = state.withLock { s -> [AlertEvent] in
            let left = s.pending[s.head...].map(\.event)
            s.stats.dropped += s.waiting
            s.pending = []
            s.head = 0
            return left
        }
        for event in left { deadLetter(event, .stopped, "the handler stopped before the event's first attempt", attempts: 0) }
        close()
        worker.withLock { $0?.cancel() }
        fireDrains()
    }

    /// Calls `done` when the queue's task has ended (after ``close()`` and the last event).
    public func whenFinished(_ done: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if s.ended { return true }
            s.finished.append(done)
            return false
        }
        if now { done() }
    }

    // MARK: The queue's task

    private func run() async {
        var gate = rateLimit.map(RateGate.init)
        while let event = await next() {
            if let wait = gate?.reserve(at: .now), wait > .zero {
                // Held back by the rate limit: like a retry, this does not hold up a stopping task's drain.
                state.withLock { s in
                    s.inFlight?.retrying = true
                    s.stats.rateLimited += 1
                }
                fireDrains()
                do { try await Task.sleep(for: wait) } catch {
                    deadLetter(event, .stopped, "the handler stopped while the event waited for its rate limit (\(rateLimit!))", attempts: 0)
                    state.withLock { $0.inFlight = nil }
                    continue
                }
            }
            await deliver(event)
            state.withLock { $0.inFlight = nil }
            fireDrains()
        }
        let finished = state.withLock { s -> [@Sendable () -> Void] in
            s.ended = true
            defer { s.finished = [] }
            return s.finished
        }
        fireDrains()
        for done in finished { done() }
    }

    private func next() async -> AlertEvent? {
        while true {
            let taken = state.withLock { s -> (event: AlertEvent?, stop: Bool) in
                if s.waiting > 0 {
                    let (seq, event) = s.pending[s.head]
                    s.head += 1
                    s.inFlight = (seq, false)
                    return (event, false)
                }
                return (nil, s.closed || Task.isCancelled)
            }
            if let event = taken.event { return event }
            if taken.stop { return nil }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if s.waiting > 0 || s.closed { return true }
                    s.idle = c
                    return false
                }
                if ready { c.resume() }
            }
        }
    }

    private func deliver(_ event: AlertEvent) async {
        let what = "alert handler \(sender.description)"
        var attempt = 1
        while true {
            let failure = await Self.attempt(sender, event, topic: origin.topic, timeout: settings.timeout)
            state.withLock { s in
                if failure == nil { s.stats.sent += 1 } else { s.inFlight?.retrying = true }
            }
            fireDrains()
            guard let failure else { return }
            guard failure.isRetryable else {
                state.withLock { $0.stats.failed += 1 }
                logger.error("\(what): event \(event.id) refused, not retried: \(failure.reason)")
                deadLetter(event, .refused, failure.reason, attempts: attempt)
                return
            }
            guard !Task.isCancelled else {
                state.withLock { $0.stats.failed += 1 }
                deadLetter(event, .stopped, "the handler stopped during attempt \(attempt): \(failure.reason)", attempts: attempt)
                return
            }
            guard attempt < settings.retryMaxAttempts else {
                state.withLock { $0.stats.failed += 1 }
                logger.error("\(what): gave up on event \(event.id) after \(attempt) attempt\(attempt == 1 ? "" : "s"): \(failure.reason)")
                deadLetter(event, .retriesExhausted, failure.reason, attempts: attempt)
                return
            }
            var after: Duration?
            if case .retryable(let asked) = failure.kind { after = asked }
            let wait = settings.backoff(afterAttempt: attempt, receiverAsked: after)
            state.withLock { $0.stats.retried += 1 }
            logger.warning("\(what): attempt \(attempt) of event \(event.id) failed: \(failure.reason); retrying in \(Self.format(wait))")
            do { try await Task.sleep(for: wait) } catch {
                state.withLock { $0.stats.failed += 1 }
                deadLetter(event, .stopped, "the handler stopped while waiting to retry: \(failure.reason)", attempts: attempt)
                return
            }
            attempt += 1
        }
    }

    /// One attempt, bounded by `timeout`. The attempt runs in its own task, cancelled at the deadline; the answer
    /// does not wait for a sender that ignores the cancellation.
    static func attempt(_ sender: any AlertSender, _ event: AlertEvent, topic: String = "", timeout: Duration) async -> DeliveryFailure? {
        let work = Task(executorPreference: Self.executor) { () async -> DeliveryFailure? in
            do throws(DeliveryFailure) { try await sender.send(event, topic: topic) } catch { return error }
            return nil
        }
        let answer = Once<DeliveryFailure?>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<DeliveryFailure?, Never>) in
                answer.set(c)
                let timer = Task(executorPreference: Self.executor) {
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    if answer.resume(.retryable("no answer within \(format(timeout)) (the attempt was cancelled)")) { work.cancel() }
                }
                Task(executorPreference: Self.executor) {
                    let result = await work.value
                    timer.cancel()
                    answer.resume(result)
                }
            }
        } onCancel: {
            work.cancel()
        }
    }

    /// Records a given-up event: counted always, kept when the queue has an office.
    private func deadLetter(_ event: AlertEvent, _ reason: DeadLetter.Reason, _ detail: String, attempts: Int) {
        state.withLock { $0.stats.deadLettered += 1 }
        deadLetters?.record(DeadLetter(time: 0, handler: sender.description, origin: origin, event: event,
                                       reason: reason, detail: detail, attempts: attempts))
    }

    private func fireDrains() {
        let ready = state.withLock { s -> [@Sendable () -> Void] in
            var ready: [@Sendable () -> Void] = []
            var keep: [(target: Int, done: @Sendable () -> Void)] = []
            for d in s.drains {
                if s.settled(through: d.target) || s.ended { ready.append(d.done) } else { keep.append(d) }
            }
            s.drains = keep
            return ready
        }
        for done in ready { done() }
    }

    /// `30s`, `1.5s`, `250ms`.
    static func format(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        if ms >= 1000 { return "\(Double(ms) / 1000)s" }
        return "\(ms)ms"
    }
}

/// A continuation resumed by the first of several racers.
private final class Once<Value: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Value, Never>?, value: Value?, done: Bool)>((nil, nil, false))

    func set(_ c: CheckedContinuation<Value, Never>) {
        let early = state.withLock { s -> Value?? in
            if s.done, let v = s.value { return .some(v) }
            s.continuation = c
            return nil
        }
        if let early { c.resume(returning: early!) }
    }

    /// Resumes with `value` unless another racer did; whether this one won.
    @discardableResult
    func resume(_ value: Value) -> Bool {
        let c = state.withLock { s -> (CheckedContinuation<Value, Never>?, Bool) in
            guard !s.done else { return (nil, false) }
            s.done = true
            if let c = s.continuation {
                s.continuation = nil
                return (c, true)
            }
            s.value = value
            return (nil, true)
        }
        c.0?.resume(returning: value)
        return c.1
    }
}
