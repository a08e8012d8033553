import Foundation
import Testing
@testable import Storage

@Suite("Topic handlers and topic events in the store")
struct TopicStoreTests {
    func store() throws -> (Store, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-topics-\(UUID().uuidString)").path
        return (try Store(path: dir + "/tock.db"), dir)
    }

    @Test("a handler is saved, replaced under a new ID in one step, and deleted; the store reopens with it")
    func handlers() throws {
        let (store, dir) = try store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try store.saveTopicHandler(StoredTopicHandler(topic: "main:t:alert2", id: "a", json: "{1}"))
        try store.saveTopicHandler(StoredTopicHandler(topic: "cpu", id: "b", json: "{2}"))
        try store.saveTopicHandler(StoredTopicHandler(topic: "cpu", id: "c", json: "{3}"), replacing: "b")
        #expect(try store.topicHandlers() == [StoredTopicHandler(topic: "cpu", id: "c", json: "{3}"),
                                              StoredTopicHandler(topic: "main:t:alert2", id: "a", json: "{1}")])
        #expect(try store.deleteTopicHandler(topic: "cpu", id: "c"))
        #expect(try !store.deleteTopicHandler(topic: "cpu", id: "c"), "already gone")
        let reopened = try Store(path: dir + "/tock.db")
        #expect(try reopened.topicHandlers().map(\.id) == ["a"])
    }

    @Test("a topic's events are replaced as a whole; a deleted topic loses them")
    func events() throws {
        let (store, dir) = try store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = StoredTopicEvent(id: "cpu:a", level: 3, message: "m", details: "d", time: 5, duration: 7)
        let b = StoredTopicEvent(id: "cpu:b", level: 0, message: "", details: "", time: 6, duration: 0)
        try store.updateTopicEvents(saved: [(topic: "cpu", events: [a, b]), (topic: "mem", events: [a])], deleted: [])
        try store.updateTopicEvents(saved: [(topic: "cpu", events: [b])], deleted: ["mem"])
        let all = try store.topicEvents()
        #expect(all.map(\.topic) == ["cpu"])
        #expect(all.map(\.event) == [b])
    }
}
