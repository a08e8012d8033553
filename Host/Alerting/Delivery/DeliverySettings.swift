import Engine
import TockModel

/// How every handler's ``DeliveryQueue`` behaves: Tock's `[alerting]` section.
///
/// ```toml
/// [alerting]
///   queue-size = 1000
///   timeout = "30s"
///   retry-max-attempts = 5
///   retry-initial-backoff = "1s"
///   retry-max-backoff = "1m"
///   dead-letter-max = 10000
///   drain-timeout = "10s"
///   rate-limit = "20/1m"        # every handler; off when absent
///   [alerting.rate-limits]
///     slack = "10/1m"           # handlers of one kind
/// ```
public struct DeliverySettings: Sendable, Hashable {
    /// The events a handler may hold waiting; when full, the oldest waiting one is dropped.
    public var queueSize = 1000
    /// How long one attempt may take before it is cancelled and counted as a retryable failure.
    public var timeout: Duration = .seconds(30)
    /// Attempts per event, the first included; the event is given up after the last.
    public var retryMaxAttempts = 5
    /// The wait before the first retry; it doubles for each later one.
    public var retryInitialBackoff: Duration = .seconds(1)
    /// The longest wait between two attempts (a receiver's `Retry-After` may ask for more, up to an hour).
    public var retryMaxBackoff: Duration = .seconds(60)
    /// The most dead letters kept; beyond it the oldest are removed (and counted).
    public var deadLetterMax = 10000
    /// How long a stopping daemon, `tock run` or `tock test` waits for the handlers' queues to empty; what is still
    /// waiting then becomes dead letters (reason `stopped`).
    public var drainTimeout: Duration = .seconds(10)
    /// Every handler's rate limit, unless its kind has its own; `nil`: none.
    public var rateLimit: RateLimit?
    /// Rate limits by handler kind (`slack`, `tcp`, a notifier's name).
    public var rateLimits: [String: RateLimit] = [:]

    public init() {}

    public init(queueSize: Int = 1000, timeout: Duration = .seconds(30), retryMaxAttempts: Int = 5,
                retryInitialBackoff: Duration = .seconds(1), retryMaxBackoff: Duration = .seconds(60)) {
        self.queueSize = queueSize
        self.timeout = timeout
        self.retryMaxAttempts = retryMaxAttempts
        self.retryInitialBackoff = retryInitialBackoff
        self.retryMaxBackoff = retryMaxBackoff
    }

    /// The `[alerting]` section's name.
    public static let section = "alerting"

    /// Reads `[alerting]`, refusing unknown keys and values out of range.
    public init(table: ConfigTable) throws(ConfigError) {
        var r = ConfigReader(table, section: Self.section)
        let size = try r.int("queue-size", default: 1000)
        guard size >= 1 else { throw ConfigError("[alerting] queue-size must be at least 1, got \(size)") }
        queueSize = Int(size)
        let attempts = try r.int("retry-max-attempts", default: 5)
        guard attempts >= 1 else { throw ConfigError("[alerting] retry-max-attempts must be at least 1, got \(attempts)") }
        retryMaxAttempts = Int(attempts)
        func positive(_ key: String, _ fallback: Int64) throws(ConfigError) -> Duration {
            let ns = try r.duration(key, default: fallback)
            guard ns > 0 else { throw ConfigError("[alerting] \(key) must be a positive duration such as \"10s\"") }
            return .nanoseconds(ns)
        }
        timeout = try positive("timeout", 30 * GoDuration.second)
        retryInitialBackoff = try positive("retry-initial-backoff", GoDuration.second)
        retryMaxBackoff = try positive("retry-max-backoff", 60 * GoDuration.second)
        drainTimeout = try positive("drain-timeout", 10 * GoDuration.second)
        let keep = try r.int("dead-letter-max", default: 10000)
        guard keep >= 1 else { throw ConfigError("[alerting] dead-letter-max must be at least 1, got \(keep)") }
        deadLetterMax = Int(keep)
        let every = try r.string("rate-limit", default: "")
        if !every.isEmpty { rateLimit = try RateLimit(parsing: every, key: "[alerting] rate-limit") }
        for (kind, text) in try r.stringMap("rate-limits") {
            rateLimits[kind] = try RateLimit(parsing: text, key: "[alerting.rate-limits] \(kind)")
        }
        try r.finish()
    }

    /// The settings as a section table (durations in nanoseconds), which ``init(table:)`` reads back.
    public var table: ConfigTable {
        func ns(_ d: Duration) -> ConfigValue {
            .int(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
        }
        return ["queue-size": .int(Int64(queueSize)), "timeout": ns(timeout), "retry-max-attempts": .int(Int64(retryMaxAttempts)),
                "retry-initial-backoff": ns(retryInitialBackoff), "retry-max-backoff": ns(retryMaxBackoff),
                "dead-letter-max": .int(Int64(deadLetterMax)), "drain-timeout": ns(drainTimeout)]
            .merging(rateLimit.map { ["rate-limit": .string($0.description)] } ?? [:]) { a, _ in a }
            .merging(rateLimits.isEmpty ? [:] : ["rate-limits": .table(rateLimits.mapValues { .string($0.description) })]) { a, _ in a }
    }

    /// The rate limit of a handler of `kind`: its kind's own, else the default for every handler.
    public func rateLimit(forKind kind: String) -> RateLimit? { rateLimits[kind] ?? rateLimit }

    /// The wait after the `attempt`-th failed attempt (1-based): the initial backoff doubled per earlier retry,
    /// capped, or what the receiver asked for when that is longer.
    public func backoff(afterAttempt attempt: Int, receiverAsked after: Duration?) -> Duration {
        var wait = retryInitialBackoff
        for _ in 1..<max(attempt, 1) {
            wait *= 2
            if wait >= retryMaxBackoff { break }
        }
        wait = min(wait, retryMaxBackoff)
        if let after { wait = max(wait, min(after, .seconds(3600))) }
        return wait
    }
}
