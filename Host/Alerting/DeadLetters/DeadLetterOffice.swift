import Logging
import Engine
import Foundation
import Synchronization
import TockModel

/// Where dead letters are kept: the daemon's store, or memory for `tock run` and `tock test`.
///
/// Calls come from delivery threads and API handlers at once; an archive serializes them itself.
public protocol DeadLetterArchive: Sendable {
    /// Keeps `letter` with the next ID and removes the oldest letters beyond `limit`; answers the kept letter and how
    /// many were removed.
    func append(_ letter: DeadLetter, limit: Int) throws -> (letter: DeadLetter, pruned: Int)
    /// The letters `filter` matches, oldest first.
    func letters(matching filter: DeadLetterFilter) throws -> [DeadLetter]
    /// Removes the letters `filter` matches; answers their IDs.
    func remove(matching filter: DeadLetterFilter) throws -> [Int64]
}

/// Dead letters in memory, at most the office's limit of them.
public final class MemoryDeadLetterArchive: DeadLetterArchive {
    private let state = Mutex<(next: Int64, letters: [DeadLetter])>((1, []))

    public init() {}

    public func append(_ letter: DeadLetter, limit: Int) -> (letter: DeadLetter, pruned: Int) {
        state.withLock { s in
            var kept = letter
            kept.id = s.next
            s.next += 1
            s.letters.append(kept)
            let pruned = max(0, s.letters.count - limit)
            if pruned > 0 { s.letters.removeFirst(pruned) }
            return (kept, pruned)
        }
    }

    public func letters(matching filter: DeadLetterFilter) -> [DeadLetter] {
        state.withLock { $0.letters.filter(filter.matches) }
    }

    public func remove(matching filter: DeadLetterFilter) -> [Int64] {
        state.withLock { s in
            let gone = s.letters.filter(filter.matches).map(\.id)
            s.letters.removeAll(where: filter.matches)
            return gone
        }
    }
}

/// What an office has seen since it started.
public struct DeadLetterCounts: Sendable, Hashable {
    /// Letters recorded, by reason.
    public var recorded: [DeadLetter.Reason: Int] = [:]
    /// Letters removed because more than the limit were kept (the oldest first).
    public var pruned = 0
    /// Letters that could not be stored (the archive failed); they were logged whole instead.
    public var lost = 0

    public init() {}

    public var total: Int { recorded.values.reduce(0, +) }
}

/// Every handler's dead letters: each event a ``DeliveryQueue`` gives up is recorded here with its reason, kept in an
/// archive bounded by ``limit`` (the oldest pruned and counted), and logged.
public final class DeadLetterOffice: Sendable {
    /// The most letters kept (`[alerting] dead-letter-max`).
    public let limit: Int
    public let archive: any DeadLetterArchive
    private let logger: Logger
    private let counters = Mutex(DeadLetterCounts())

    /// `logger` gets a line when the archive prunes letters and when a letter cannot be stored.
    public init(limit: Int = DeliverySettings().deadLetterMax, archive: any DeadLetterArchive = MemoryDeadLetterArchive(),
                logger: Logger = .discarding) {
        self.limit = max(1, limit)
        self.archive = archive
        self.logger = logger
    }

    /// Keeps `letter` (its ID and time are assigned here when zero).
    @discardableResult
    public func record(_ letter: DeadLetter) -> DeadLetter? {
        var letter = letter
        if letter.time == 0 { letter.time = Int64(Date().timeIntervalSince1970 * 1e9) }
        do {
            let (kept, pruned) = try archive.append(letter, limit: limit)
            counters.withLock { c in
                c.recorded[letter.reason, default: 0] += 1
                c.pruned += pruned
            }
            if pruned > 0 {
                logger.warning("dead letters: over dead-letter-max (\(limit)), removed the oldest \(pruned)")
            }
            return kept
        } catch {
            counters.withLock { c in
                c.recorded[letter.reason, default: 0] += 1
                c.lost += 1
            }
            logger.error("dead letter of \(letter.handler) (task \(letter.origin.task)) could not be stored: \(error); event: \(letter.event.json)",
                         metadata: ["task": .string(letter.origin.task), "node": .string(letter.origin.node)])
            return nil
        }
    }

    /// The letters `filter` matches, oldest first.
    public func letters(matching filter: DeadLetterFilter = .all) throws -> [DeadLetter] {
        try archive.letters(matching: filter)
    }

    /// Removes the letters `filter` matches; answers their IDs.
    @discardableResult
    public func remove(matching filter: DeadLetterFilter) throws -> [Int64] {
        try archive.remove(matching: filter)
    }

    public var counts: DeadLetterCounts { counters.withLock { $0 } }

    /// One line for a run's summary: `3 dead letters (2 retries-exhausted, 1 refused)`; empty when there were none.
    public var summary: String {
        let c = counts
        guard c.total > 0 else { return "" }
        let parts = DeadLetter.Reason.allCases.compactMap { r in c.recorded[r].map { "\($0) \(r)" } }
        return "\(c.total) dead letter\(c.total == 1 ? "" : "s") (\(parts.joined(separator: ", ")))"
    }
}
