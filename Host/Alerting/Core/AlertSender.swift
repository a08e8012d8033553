import Engine

/// One configured destination for alert events: a Slack channel, a PagerDuty service, an SMTP recipient list.
///
/// A sender makes one attempt per call and says whether another could succeed. The delivery path around it
/// (``DeliveryQueue``) owns the queue, the per-attempt timeout, retries with backoff and what happens to an event
/// that cannot be delivered; a sender never retries or sleeps on its own.
public protocol AlertSender: Sendable {
    /// The destination, for logs and dead letters: `slack workspace "default" channel "#ops"`.
    var description: String { get }

    /// Delivers `event` once.
    func send(_ event: AlertEvent) async throws(DeliveryFailure)

    /// Delivers `event`, published to `topic`, once: for senders whose body names the topic (Teams titles an alert
    /// without an ID by its topic). The others ignore it.
    func send(_ event: AlertEvent, topic: String) async throws(DeliveryFailure)
}

extension AlertSender {
    public func send(_ event: AlertEvent, topic: String) async throws(DeliveryFailure) {
        try await send(event)
    }
}

/// Why a delivery attempt failed, and whether another may succeed.
public struct DeliveryFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The receiver is down, slow or overloaded (connection refused, timeout, 5xx, 429): try again, no sooner
        /// than `after` when the receiver said so (`Retry-After`).
        case retryable(after: Duration?)
        /// The receiver refused the event itself (4xx, a bad address): another attempt would fail the same way.
        case permanent
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public static func retryable(_ reason: String, after: Duration? = nil) -> DeliveryFailure {
        DeliveryFailure(.retryable(after: after), reason)
    }

    public static func permanent(_ reason: String) -> DeliveryFailure { DeliveryFailure(.permanent, reason) }

    public var isRetryable: Bool { if case .retryable = kind { true } else { false } }

    public var description: String { reason }
}
