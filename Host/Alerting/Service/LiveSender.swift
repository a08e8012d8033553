import Engine
import Synchronization
import TockModel

/// A handler's sender that follows its service's configuration, as Kapacitor's services read theirs at every send:
/// when the config API replaces the service, the next attempt is made by a sender built from the new configuration.
final class LiveSender: AlertSender {
    let kind: String
    let options: [String: HandlerOption]
    private let lookup: @Sendable (String) -> (service: (any AlertServiceKind)?, generation: Int)
    private let current: Mutex<(generation: Int, sender: any AlertSender)>

    /// `lookup` gives the service of a kind and how many times it was replaced.
    init(kind: String, options: [String: HandlerOption], sender: any AlertSender, generation: Int,
         lookup: @escaping @Sendable (String) -> (service: (any AlertServiceKind)?, generation: Int)) {
        self.kind = kind
        self.options = options
        self.lookup = lookup
        self.current = Mutex((generation, sender))
    }

    var description: String { current.withLock { $0.sender.description } }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        try await sender().send(event)
    }

    func send(_ event: AlertEvent, topic: String) async throws(DeliveryFailure) {
        try await sender().send(event, topic: topic)
    }

    /// The sender of the service's present configuration.
    func sender() throws(DeliveryFailure) -> any AlertSender {
        let (service, generation) = lookup(kind)
        let state = current.withLock { $0 }
        guard generation != state.generation, let service else { return state.sender }
        let sender: any AlertSender
        do {
            sender = try service.makeSender(options: options)
        } catch {
            throw .permanent("the \(kind) configuration was changed and no longer serves this handler: \(error.message)")
        }
        current.withLock { $0 = (generation, sender) }
        return sender
    }
}
