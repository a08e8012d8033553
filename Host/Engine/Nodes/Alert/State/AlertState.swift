import TockModel

/// The alert state of one group: the recent history of levels, flapping, and when the current alert
/// started and was last sent. Mirrors Kapacitor's `alertState`.
struct AlertState {
    /// How flapping is detected: `nil` when `.flapping()` is not set.
    struct Flapping: Sendable, Hashable {
        var low: Double
        var high: Double
    }

    /// The newest state change weighs `weightDiff` times the oldest one.
    static let weightDiff = 1.5
    /// The weight of the newest state change.
    static let maxWeight = 1.2

    /// A ring of the last levels, all OK at first; `index` is the newest.
    private(set) var history: [AlertLevel]
    private(set) var index = 0
    private(set) var flapping = false
    /// Whether the newest level differs from the one before it.
    private(set) var changed = false
    /// Whether `stateChangesOnly`'s maximum interval has passed since the last event.
    private(set) var expired = false
    /// `nil` until an event follows an OK level (Go's zero time).
    private(set) var firstTriggered: Timestamp?
    /// `nil` until the first event (Go's zero time, long before any data).
    private(set) var lastTriggered: Timestamp?

    let flap: Flapping?
    /// `stateChangesOnly`'s maximum interval in nanoseconds; 0 for none.
    let maxInterval: Int64

    init(historySize: Int, flapping: Flapping? = nil, maxInterval: Int64 = 0) {
        history = Array(repeating: .ok, count: max(2, historySize))
        self.flap = flapping
        self.maxInterval = maxInterval
    }

    var currentLevel: AlertLevel { history[index] }

    /// The level before the newest one.
    var previousLevel: AlertLevel {
        history[index == 0 ? history.count - 1 : index - 1]
    }

    /// How long the current alert has lasted: last event time minus the time it first triggered.
    /// Before any start (an alert that began while flapping hid it) this is Go's `Sub` from the zero
    /// time, which saturates at the largest duration.
    var duration: Int64 {
        guard let first = firstTriggered, let last = lastTriggered else { return Int64.max }
        return last &- first
    }

    /// Records the level of a new point or batch at time `t`.
    mutating func add(level: AlertLevel, at t: Timestamp) {
        changed = history[index] != level
        index = (index + 1) % history.count
        history[index] = level
        updateFlapping()
        if changed || maxInterval == 0 {
            expired = false
        } else if let last = lastTriggered {
            expired = t &- last >= maxInterval
        } else {
            expired = true
        }
    }

    /// Starts from a level an earlier run of the task left the alert in, reached at `t`.
    mutating func restore(level: AlertLevel, at t: Timestamp) {
        history[index] = level
        firstTriggered = t
        lastTriggered = t
    }

    /// Records that an event was sent at `t`; a first event after OK starts a new alert.
    mutating func triggered(at t: Timestamp) {
        lastTriggered = t
        if previousLevel == .ok { firstTriggered = t }
    }

    /// Kapacitor's weighted share of state changes over the history, newest changes weighing most.
    var percentChange: Double {
        let l = history.count
        var changes = 0.0
        var weight = Self.maxWeight / Self.weightDiff
        let step = (Self.maxWeight - weight) / Double(l - 1)
        for i in 0..<(l - 1) {
            let c = (i + index) % l
            let p = c == 0 ? l - 1 : c - 1
            if history[c] != history[p] { changes += weight }
            weight += step
        }
        return changes / Double(l - 1)
    }

    private mutating func updateFlapping() {
        guard let flap else { return }
        let p = percentChange
        if flapping && p < flap.low {
            flapping = false
        } else if !flapping && p > flap.high {
            flapping = true
        }
    }
}
