import Foundation
import Storage
import Testing

@Suite("Store: dead letters, bounded, kept across restarts")
struct DeadLetterStoreTests {
    let directory = NSTemporaryDirectory() + "tock-deadletters-\(UUID().uuidString)"

    func letter(_ task: String, _ n: Int) -> StoredDeadLetter {
        StoredDeadLetter(time: Int64(n), task: task, node: "alert2", topic: "main:\(task):alert2", handler: "tcp 127.0.0.1:9",
                         kind: "tcp", reason: "refused", attempts: 1, json: "{\"n\":\(n)}")
    }

    @Test("letters get increasing IDs, are read back whole after a reopen, oldest first")
    func appendAndReopen() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let store = try Store(path: directory + "/tock.db")
            let first = try store.appendDeadLetter(letter("cpu", 1), limit: 10)
            let second = try store.appendDeadLetter(letter("mem", 2), limit: 10)
            #expect(first.id == 1 && first.pruned == 0)
            #expect(second.id == 2 && second.pruned == 0)
        }
        let store = try Store(path: directory + "/tock.db")
        var expected = [letter("cpu", 1), letter("mem", 2)]
        expected[0].id = 1
        expected[1].id = 2
        #expect(try store.deadLetters() == expected)
    }

    @Test("beyond the limit the oldest are deleted in the same write, and counted; IDs are never reused")
    func bounded() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(path: directory + "/tock.db")
        for n in 1...3 { _ = try store.appendDeadLetter(letter("cpu", n), limit: 3) }
        let (id, pruned) = try store.appendDeadLetter(letter("cpu", 4), limit: 3)
        #expect(id == 4 && pruned == 1)
        #expect(try store.deadLetters().map(\.id) == [2, 3, 4])
        #expect(try store.deleteDeadLetters(ids: [4, 99]) == 1)
        #expect(try store.appendDeadLetter(letter("cpu", 5), limit: 3).id == 5, "4 was deleted but is not given again")
        #expect(try store.deadLetters().map(\.id) == [2, 3, 5])
        #expect(try store.deadLetterIDs() == [2, 3, 5])
    }
}
