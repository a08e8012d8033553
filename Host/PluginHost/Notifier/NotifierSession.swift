import Logging
import Engine
import Foundation
import PluginSupervisor
import PluginProtocol
import SwiftProtobuf
import TockModel
import UDFProtocol

/// One running notifier process: the handshake, then events in flight matched to their answers by delivery ID.
final class NotifierSession: @unchecked Sendable {
    /// Set once from the handshake, before the session is handed out.
    private(set) var info: NotifierInfo
    private let name: String
    private var connection: PluginConnection!
    private let lock = NSCondition()
    // Guarded by `lock`.
    private var handshake: Tock_Plugin_HandshakeResponse?
    private var ended: String??
    private var nextID: UInt64 = 0
    private var pending: [UInt64: CheckedContinuation<NotifyOutcome, Never>] = [:]
    private var inFlight = 0
    private var slotWaiters: [CheckedContinuation<Void, Never>] = []
    private var limit = 1
    private let onEnd: @Sendable (NotifierSession, String?) -> Void

    var isAlive: Bool { lock.withLock { ended == nil } }

    private init(name: String, info: NotifierInfo, onEnd: @escaping @Sendable (NotifierSession, String?) -> Void) {
        self.name = name
        self.info = info
        self.onEnd = onEnd
    }

    /// Starts the program and waits (up to the configured timeout) for its handshake.
    static func start(configuration: NotifierConfiguration, logger: Logger,
                      ended: @escaping @Sendable (NotifierSession, String?) -> Void) throws(NotifierError) -> NotifierSession {
        let name = configuration.name
        let session = NotifierSession(name: name, info: NotifierInfo(name: name, version: "", options: [:], inFlight: 1), onEnd: ended)
        let options = PluginWire.connectionOptions(kind: "notifier", name: name, timeout: configuration.timeout)
        do {
            session.connection = try PluginConnection(
                endpoint: configuration.endpoint, options: options,
                handlers: PluginWire.handlers(kind: "notifier", name: name, logger: logger,
                                              frame: { bytes in try session.handle(bytes) },
                                              ended: { end in session.connectionEnded(end) }))
        } catch {
            throw NotifierError(notifier: name, message: "could not start: \(error)")
        }
        session.connection.send(control: true) {
            $0 += PluginWire.frame(.with {
                $0.handshake = .with {
                    $0.protocolVersion = 1
                    $0.name = name
                    $0.hostVersion = "tock"
                }
            })
        }
        let deadline = Date(timeIntervalSinceNow: Double(configuration.timeout) / 1e9)
        let answer: Result<Tock_Plugin_HandshakeResponse, NotifierError> = session.lock.withLock {
            while session.handshake == nil && session.ended == nil {
                if !session.lock.wait(until: deadline) { break }
            }
            if let h = session.handshake { return .success(h) }
            if let reason = session.ended { return .failure(NotifierError(notifier: name, message: reason ?? "ended before its handshake")) }
            return .failure(NotifierError(notifier: name, message: "did not answer the handshake within \(GoDuration.format(configuration.timeout))"))
        }
        switch answer {
        case .failure(var error):
            error.stderrTail = session.connection.abortAndSettle(.protocolError(error.message))
            throw error
        case .success(let h):
            guard h.kind == .notifier else {
                let message = "is not a notifier (its handshake says kind \(h.kind))"
                throw NotifierError(notifier: name, message: message,
                                    stderrTail: session.connection.abortAndSettle(.protocolError(message)))
            }
            var known: [String: Tock_Plugin_OptionInfo] = [:]
            for option in h.options { known[option.name] = option }
            let inFlight = max(1, min(configuration.concurrency, Int(max(h.maxInFlight, 1))))
            let info = NotifierInfo(name: h.name.isEmpty ? name : h.name, version: h.version, options: known, inFlight: inFlight)
            session.info = info
            return session
        }
    }

    /// Sends one event and waits for its answer; waits first while the plugin has as many events as it takes.
    func notify(_ request: Tock_Plugin_NotifyRequest) async -> NotifyOutcome {
        await acquireSlot()
        defer { releaseSlot() }
        let id: UInt64? = lock.withLock {
            guard ended == nil else { return nil }
            nextID += 1
            return nextID
        }
        guard let id else { return .retryable(reason: "notifier \(name) stopped", after: nil) }
        var request = request
        request.deliveryID = id
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<NotifyOutcome, Never>) in
                let reason: String?? = lock.withLock {
                    if let ended { return .some(ended) }
                    pending[id] = continuation
                    return .none
                }
                if let reason {
                    continuation.resume(returning: .retryable(reason: "notifier \(name) \(reason ?? "stopped")", after: nil))
                    return
                }
                let frame = PluginWire.frame(.with { $0.notify = request })
                if !connection.send(control: true, { $0 += frame }) {
                    resolve(id, .retryable(reason: "notifier \(name) is not accepting events", after: nil))
                }
            }
        } onCancel: {
            resolve(id, .retryable(reason: "notifier \(name): the attempt was abandoned (timeout)", after: nil))
        }
    }

    func close() { connection.closeInput() }

    private func resolve(_ id: UInt64, _ outcome: NotifyOutcome) {
        let continuation = lock.withLock { pending.removeValue(forKey: id) }
        continuation?.resume(returning: outcome)
    }

    private func acquireSlot() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now: Bool = lock.withLock {
                if inFlight < info.inFlight {
                    inFlight += 1
                    return true
                }
                slotWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func releaseSlot() {
        let next: CheckedContinuation<Void, Never>? = lock.withLock {
            if slotWaiters.isEmpty {
                inFlight -= 1
                return nil
            }
            return slotWaiters.removeFirst()  // the slot passes to the next waiter
        }
        next?.resume()
    }

    // MARK: Reader side

    private func handle(_ bytes: UnsafeRawBufferPointer) throws {
        let response: Tock_Plugin_Response
        do {
            response = try Tock_Plugin_Response(serializedBytes: Array(bytes))
        } catch {
            throw ConnectionFailure.malformedFrame("a \(bytes.count)-byte response that does not decode (\(error))")
        }
        switch response.message {
        case .handshake(let h):
            try lock.withLock {
                guard handshake == nil else { throw ConnectionFailure.protocolError("sent a second handshake") }
                handshake = h
                lock.broadcast()
            }
        case .keepalive:
            break
        case .notified(let n):
            let outcome: NotifyOutcome = switch n.outcome {
            case .delivered: .delivered
            case .retryableFailure: .retryable(reason: n.reason, after: n.retryAfter > 0 ? n.retryAfter : nil)
            case .permanentFailure: .permanent(reason: n.reason)
            case .UNRECOGNIZED(let v): .retryable(reason: "answered with an unknown outcome \(v)", after: nil)
            }
            let known = lock.withLock { pending[n.deliveryID] != nil }
            // An answer for an attempt already abandoned (timed out) is dropped.
            if known { resolve(n.deliveryID, outcome) }
        case .points:
            throw ConnectionFailure.protocolError("sent points: it is a notifier, not a collector")
        case .error(let e):
            throw ConnectionFailure.errorResponse(e.error)
        case nil:
            throw ConnectionFailure.malformedFrame("an empty response (no message set)")
        }
    }

    private func connectionEnded(_ end: ConnectionEnd) {
        let reason: String? = end.failure.map { failure in
            "ended: \(failure)" + (end.stderrTail.isEmpty ? "" : "; last stderr: " + end.stderrTail.suffix(10).joined(separator: " | "))
        }
        let waiting: [CheckedContinuation<NotifyOutcome, Never>] = lock.withLock {
            ended = .some(reason)
            lock.broadcast()
            defer { pending = [:] }
            return Array(pending.values)
        }
        for continuation in waiting {
            continuation.resume(returning: .retryable(reason: "notifier \(name) \(reason ?? "stopped") with the event in flight", after: nil))
        }
        onEnd(self, reason)
    }
}
