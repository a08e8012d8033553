import Foundation
import TockModel

/// Kapacitor's alert inhibition: an alert with `.inhibit(category, tags...)` silences the handlers of
/// every alert in `category` (set with `.category(name)`) whose tags equal its own on those tag names,
/// for as long as it is not OK. Shared by every task of the process, as Kapacitor's alert service is.
final class InhibitorLookup: Sendable {
    /// The process-wide lookup tasks register with.
    static let shared = InhibitorLookup()

    private let state = Mutex()

    init() {}

    /// One inhibiting alert group: its category, the tag values that must match, and whether it is active.
    final class Inhibitor: Sendable {
        let category: String
        let tags: Tags
        private let active = Mutex()

        init(category: String, tags: Tags) {
            self.category = category
            self.tags = tags
        }

        func set(_ on: Bool) { active.withLock { $0.on = on } }

        func inhibits(category: String, tags: Tags) -> Bool {
            guard category == self.category, active.withLock({ $0.on }) else { return false }
            return self.tags.allSatisfy { tags[$0.key] == $0.value }
        }
    }

    func add(_ inhibitor: Inhibitor) {
        state.withLock { $0.inhibitors.append(inhibitor) }
    }

    func remove(_ inhibitor: Inhibitor) {
        state.withLock { $0.inhibitors.removeAll { $0 === inhibitor } }
    }

    func isInhibited(category: String, tags: Tags) -> Bool {
        state.withLock { $0.inhibitors.contains { $0.inhibits(category: category, tags: tags) } }
    }

    /// A lock around the little state above (NSLock is Sendable; the values stay behind it).
    private final class Mutex: @unchecked Sendable {
        struct State {
            var inhibitors: [Inhibitor] = []
            var on = false
        }
        private let lock = NSLock()
        private var value = State()

        func withLock<T>(_ body: (inout State) -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            return body(&value)
        }
    }
}
