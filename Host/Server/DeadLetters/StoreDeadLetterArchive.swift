import Alerting
import Engine
import Storage

/// The daemon's dead letters, in its store (`deadLetter` table, migration "v9: dead letters"): they outlive a restart.
struct StoreDeadLetterArchive: DeadLetterArchive {
    let store: Store

    func append(_ letter: DeadLetter, limit: Int) throws -> (letter: DeadLetter, pruned: Int) {
        let row = StoredDeadLetter(time: letter.time, task: letter.origin.task, node: letter.origin.node,
                                   topic: letter.origin.topic, handler: letter.handler, kind: letter.origin.kind,
                                   reason: letter.reason.rawValue, attempts: letter.attempts, json: DeadLetterJSON.stored(letter))
        let (id, pruned) = try store.appendDeadLetter(row, limit: limit)
        var kept = letter
        kept.id = id
        return (kept, pruned)
    }

    /// The rows are filtered on their columns first; only those left are decoded. A row that cannot be read is skipped
    /// (it is still listed by its columns in the log of the daemon that wrote it).
    func letters(matching filter: DeadLetterFilter) throws -> [DeadLetter] {
        try store.deadLetters().compactMap { row in
            guard filter.ids.map({ $0.contains(row.id) }) ?? true,
                  let letter = try? DeadLetterJSON.letter(stored: row.json, id: row.id, time: row.time),
                  filter.matches(letter) else { return nil }
            return letter
        }
    }

    func remove(matching filter: DeadLetterFilter) throws -> [Int64] {
        // By IDs alone (a replay removing what it queued, `DELETE …/ID`): one statement, nothing read or decoded.
        if let only = filter.ids, DeadLetterFilter(ids: only) == filter {
            let existing = Set(try store.deadLetterIDs())
            let ids = only.filter(existing.contains).sorted()
            try store.deleteDeadLetters(ids: ids)
            return ids
        }
        let ids = try letters(matching: filter).map(\.id)
        try store.deleteDeadLetters(ids: ids)
        return ids
    }
}
