import Engine
import Foundation
import Synchronization

/// The silences in force, shared by every alert node's handlers (inline and topic handlers alike).
///
/// Ended silences are forgotten at the next change or lookup, so the set holds at most ``limit`` entries. Every change
/// is handed to ``persist`` (the daemon's store) so that silences survive a restart.
public final class Silences: Sendable {
    /// The most silences held at once; one more is refused.
    public static let limit = 10_000
    private let state: Mutex<[String: Silence]>
    private let persist: Mutex<(@Sendable ([Silence]) -> Void)?>
    private let clock: @Sendable () -> Int64

    public init(_ silences: [Silence] = [], clock: @escaping @Sendable () -> Int64 = Silences.wallClock) {
        state = Mutex(Dictionary(silences.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last }))
        persist = Mutex(nil)
        self.clock = clock
    }

    public static let wallClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1e9) }

    /// Starts with `silences` (as stored) and hands every later change to `persist`.
    public func restore(_ silences: [Silence], persist: @escaping @Sendable ([Silence]) -> Void) {
        state.withLock { s in for silence in silences { s[silence.id] = silence } }
        self.persist.withLock { $0 = persist }
    }

    /// The current time of this set's clock.
    public var now: Int64 { clock() }

    /// Adds `silence`, or replaces the one with its ID.
    public func add(_ silence: Silence) throws(SilenceError) {
        guard silence.end > silence.start else {
            throw SilenceError("silence \(silence.id): its end must come after its start")
        }
        guard silence.end > clock() else { throw SilenceError("silence \(silence.id): its end is already past") }
        // Saved under the lock, so that the store always ends with the last change (changes are rare).
        let added: Bool = state.withLock { s in
            pruneEnded(&s)
            guard s[silence.id] != nil || s.count < Self.limit else { return false }
            s[silence.id] = silence
            save(Array(s.values))
            return true
        }
        guard added else { throw SilenceError("too many silences (\(Self.limit)): delete some first") }
    }

    /// Removes the silence `id`; whether there was one.
    @discardableResult
    public func remove(_ id: String) -> Bool {
        state.withLock { s in
            guard s.removeValue(forKey: id) != nil else { return false }
            save(Array(s.values))
            return true
        }
    }

    /// Every silence not yet ended, by start then ID.
    public func list() -> [Silence] {
        state.withLock { s in
            pruneEnded(&s)
            return s.values.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
        }
    }

    public func silence(_ id: String) -> Silence? {
        let now = clock()
        return state.withLock { s in s[id].flatMap { $0.end > now ? $0 : nil } }
    }

    /// The first active silence (by ID) that covers `event` in any of `topics`, if one does.
    public func silencing(_ event: AlertEvent, topics: [String]) -> Silence? {
        let now = clock()
        return state.withLock { s -> Silence? in
            guard !s.isEmpty else { return nil }
            return s.values.filter { silence in
                silence.isActive(at: now) && topics.contains { silence.covers(event, topic: $0) }
            }.min { $0.id < $1.id }
        }
    }

    private func pruneEnded(_ s: inout [String: Silence]) {
        let now = clock()
        s = s.filter { $0.value.end > now }
    }

    private func save(_ all: [Silence]) {
        persist.withLock { $0 }?(all)
    }
}
