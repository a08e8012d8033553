import Foundation
import Testing
@testable import Storage

@Suite("Store: the host inventory's recent values, saved every second")
struct HostSampleStoreTests {
    static func store() throws -> (Store, String) {
        let dir = NSTemporaryDirectory() + "tock-host-samples-\(UUID().uuidString)"
        return (try Store(path: dir + "/tock.db"), dir)
    }

    static func sample(_ host: String, _ time: Int64, _ value: Double, field: String = "usage_user") -> StoredSample {
        StoredSample(host: host, measurement: "cpu", tags: ["host": host, "cpu": "cpu-total"], field: field, time: time, value: value)
    }

    @Test("a series saved again reuses its row, across saves; its values replace by time")
    func reuse() throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try store.saveHostSamples([Self.sample("web1", 10, 1), Self.sample("web2", 10, 2)])
        try store.saveHostSamples([Self.sample("web1", 10, 1.5), Self.sample("web1", 20, 3), Self.sample("web2", 20, 4)])
        #expect(store.hostSeriesIDs.withLock { $0.count } == 2)
        let counts = try store.hostSampleCounts()
        #expect(counts.series == 2 && counts.values == 4)
        let web1 = try store.hostSamples(since: 0).filter { $0.host == "web1" }
        #expect(web1.map(\.value) == [1.5, 3])
    }

    @Test("series deleted by a prune or with their host are written anew when their values come back")
    func deletedSeries() throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try store.saveHostSamples([Self.sample("web1", 10, 1), Self.sample("web2", 10, 2)])
        try store.pruneHostSamples(before: 100, maxValues: 100)
        #expect(try store.hostSampleCounts().series == 0)
        try store.saveHostSamples([Self.sample("web1", 110, 5)])
        try store.deleteHostSamples(host: "web1")
        try store.saveHostSamples([Self.sample("web1", 120, 6), Self.sample("web2", 120, 7)])
        let all = try store.hostSamples(since: 0)
        #expect(all.map(\.value).sorted() == [6, 7])
        #expect(try store.hostSampleCounts().series == 2)
    }
}
