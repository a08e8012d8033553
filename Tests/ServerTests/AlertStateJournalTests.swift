import Foundation
import Logging
@testable import Server
import Storage
import Testing
import Engine

@Suite("Alert levels are written behind the tasks: noted at once, read back at once, stored in batches")
struct AlertStateJournalTests {
    /// A store on a temporary file, removed after `body`.
    func withStore(_ body: (Store, String) throws -> Void) throws {
        let directory = NSTemporaryDirectory() + "tock-alert-states-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(try Store(path: directory + "/tock.db"), directory)
    }

    @Test("a level noted is read back before it is stored, and from the store by the next journal after a flush")
    func readBackAndFlush() throws {
        try withStore { store, _ in
            let journal = AlertStateJournal(store: store, log: Logger(label: "test"))
            #expect(journal.lastLevel(taskID: "t", nodeID: "alert2", alertID: "cpu:host=a") == nil)
            journal.save(taskID: "t", nodeID: "alert2", alertID: "cpu:host=a", level: .critical, time: 7)
            let read = journal.lastLevel(taskID: "t", nodeID: "alert2", alertID: "cpu:host=a")
            #expect(read?.level == .critical && read?.time == 7)
            journal.flush()
            #expect(journal.pendingCount == 0)
            let stored = try store.alertState(taskID: "t", nodeID: "alert2", alertID: "cpu:host=a")
            #expect(stored?.level == AlertLevel.critical.rawValue && stored?.time == 7)
            let next = AlertStateJournal(store: store, log: Logger(label: "test"))
            #expect(next.lastLevel(taskID: "t", nodeID: "alert2", alertID: "cpu:host=a")?.level == .critical)
        }
    }

    @Test("a burst of level changes leaves each alert's last level in the store")
    func burstKeepsLastLevels() throws {
        try withStore { store, _ in
            let journal = AlertStateJournal(store: store, log: Logger(label: "test"))
            let levels: [AlertLevel] = [.ok, .info, .warning, .critical]
            for i in 0..<2_000 {
                journal.save(taskID: "t", nodeID: "alert2", alertID: "host=\(i % 10)", level: levels[i % 4], time: Int64(i))
            }
            journal.flush()
            let stored = try store.alertStates(taskID: "t")
            #expect(stored.count == 10)
            for (_, alertID, level) in stored {
                let host = Int(alertID.dropFirst("host=".count))!
                // The last i with i % 10 == host is 1990 + host.
                #expect(level == levels[(1_990 + host) % 4].rawValue, "\(alertID)")
                let time = try store.alertState(taskID: "t", nodeID: "alert2", alertID: alertID)?.time
                #expect(time == Int64(1_990 + host))
            }
        }
    }

    @Test("a deleted task's levels do not reach the store after its rows are deleted")
    func forgetBeforeDelete() throws {
        try withStore { store, _ in
            let journal = AlertStateJournal(store: store, log: Logger(label: "test"))
            for i in 0..<500 {
                journal.save(taskID: "gone", nodeID: "alert2", alertID: "a\(i)", level: .critical, time: Int64(i))
                journal.save(taskID: "kept", nodeID: "alert2", alertID: "a\(i % 3)", level: .warning, time: Int64(i))
            }
            journal.forget(taskID: "gone")
            try store.deleteTask("gone")
            journal.flush()
            let gone = try store.alertStates(taskID: "gone"), kept = try store.alertStates(taskID: "kept")
            #expect(gone.isEmpty)
            #expect(kept.map(\.alertID) == ["a0", "a1", "a2"])
        }
    }
}
