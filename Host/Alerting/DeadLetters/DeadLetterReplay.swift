import Logging
import TockModel
import Engine
import Foundation

/// Why a dead letter could not be replayed.
public struct ReplayRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public var id: Int64
    public var reason: String
    public var description: String { "dead letter \(id): \(reason)" }
}

extension AlertingService {
    /// Sends a dead letter's event again and removes the letter once the event is queued.
    ///
    /// The event goes through the handler's current queue when its alert node still runs with that handler (same task,
    /// node, kind and options): it then waits its turn behind newer events and under the handler's rate limit. When the
    /// handler is gone (task deleted or changed, daemon restarted), a sender is built anew from the stored kind and
    /// options, with the service's current configuration, in a queue of its own that ends when it is empty. A letter
    /// whose sender cannot be built (the service or notifier is no longer configured, its options are refused) stays,
    /// and the refusal says why. If the new attempts fail the event becomes a new dead letter.
    /// - Returns: the handler's description and whether its running queue took the event (`false`: a rebuilt one).
    public func replay(_ letter: DeadLetter, logger: Logger = .discarding)
        throws(ReplayRefusal) -> (handler: String, running: Bool) {
        let o = letter.origin
        let running = open.withLock { entries in
            entries.values.first { $0.task == o.task && $0.node == o.node && $0.queue.origin == o && !$0.queue.isClosed }?.queue
        }
        if let running {
            running.collect(letter.event)
            _ = try? deadLetters.remove(matching: DeadLetterFilter(ids: [letter.id]))
            return (running.sender.description, true)
        }
        let sender: any AlertSender
        do {
            let spec = AlertHandlerSpec(kind: o.kind, options: o.options)
            if let notifier = try PluginNotifierSender.make(spec, plugins: notifiers, topic: o.topic) {
                sender = notifier
            } else {
                sender = try liveSender(kind: o.kind, options: o.options)
            }
        } catch {
            throw ReplayRefusal(id: letter.id, reason: "its handler (\(letter.handler), kind \(o.kind)) no longer runs and cannot be built again: \(error)")
        }
        let queue = DeliveryQueue(sender: sender, settings: delivery, origin: o, deadLetters: deadLetters, logger: logger)
        open.withLock { $0[ObjectIdentifier(queue)] = (o.task, o.node, queue) }
        queue.collect(letter.event)
        queue.close()
        queue.whenFinished { [weak self] in _ = self?.open.withLock { $0.removeValue(forKey: ObjectIdentifier(queue)) } }
        _ = try? deadLetters.remove(matching: DeadLetterFilter(ids: [letter.id]))
        return (sender.description, false)
    }

    /// Waits, at most `bound`, for the queues of stopped alert nodes to deliver what they hold (every task must have
    /// stopped: a running node's queue never finishes); then stops every queue, so that what is still pending becomes
    /// dead letters (reason `stopped`). Blocks the calling thread: for the end of a process.
    /// - Returns: whether everything was delivered or given up within the bound.
    @discardableResult
    public func settle(within bound: Duration) -> Bool {
        let deadline = ContinuousClock.now + bound
        var settled = false
        while true {
            let queues = open.withLock { Array($0.values) }.map(\.queue)
            if queues.allSatisfy(\.isFinished) { settled = true; break }
            if ContinuousClock.now >= deadline { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let queues = open.withLock { Array($0.values) }.map(\.queue)
        shutdown()
        // A cancelled queue records the event it was retrying as a dead letter on its own task: wait (bounded) for
        // every queue to end, so that the letter is stored before the process exits.
        let end = ContinuousClock.now + .seconds(3)
        while !queues.allSatisfy(\.isFinished) && ContinuousClock.now < end { Thread.sleep(forTimeInterval: 0.01) }
        return settled
    }
}
