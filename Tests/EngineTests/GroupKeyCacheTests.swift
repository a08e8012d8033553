import Testing
import TockModel
@testable import Engine

@Suite("Group keys by series")
struct GroupKeyCacheTests {
    private let byHost = SeriesInterner.shared.intern(Dimensions(tagNames: ["host"]))
    private let byHostAndDC = SeriesInterner.shared.intern(Dimensions(byName: true, tagNames: ["host", "dc"]))

    @Test("the points of a series get the group their tags spell, one interned storage for all")
    func groupOfSeries() {
        var cache = GroupKeyCache()
        let series = SeriesInterner.shared.intern(SeriesKey(name: "cpu", tags: ["host": "gk-a", "dc": "x"]))
        let g = cache.group(series: series, dimensions: byHost)
        #expect(g == GroupID("host=gk-a"))
        #expect(cache.group(series: series, dimensions: byHost).storageIdentity == g.storageIdentity)
        // Another cache, or another series with the same grouping tags: the same interned group.
        var other = GroupKeyCache()
        let sibling = SeriesKey(name: "cpu", tags: ["host": "gk-a", "dc": "y"])
        #expect(other.group(series: sibling, dimensions: byHost).storageIdentity == g.storageIdentity)
        #expect(g.storageIdentity == SeriesInterner.shared.intern(GroupID("host=gk-a")).storageIdentity)
    }

    @Test("the dimensions are part of the key: other dimensions, another group")
    func dimensionsMatter() {
        var cache = GroupKeyCache()
        let series = SeriesKey(name: "cpu", tags: ["host": "gk-b", "dc": "x"])
        #expect(cache.group(series: series, dimensions: byHost) == GroupID("host=gk-b"))
        #expect(cache.group(series: series, dimensions: byHostAndDC) == GroupID("cpu\ndc=x,host=gk-b"))
        var byName = byHost
        byName.byName = true
        #expect(cache.group(series: series, dimensions: byName) == GroupID("cpu\nhost=gk-b"))
        #expect(cache.group(series: series, dimensions: .none) == .none)
        // Equal dimensions in another array: the same group.
        #expect(cache.group(series: series, dimensions: Dimensions(tagNames: ["host"])) == GroupID("host=gk-b"))
    }

    @Test("many series in turn each keep their own group")
    func manySeries() {
        var cache = GroupKeyCache()
        let series = (0..<3000).map { SeriesKey(name: "cpu", tags: ["host": "gk-many-\($0)", "dc": "\($0 % 7)"]) }
        for round in 0..<3 {
            for (i, s) in series.enumerated() {
                let dims = round == 1 ? byHostAndDC : byHost
                let expected = round == 1 ? "cpu\ndc=\(i % 7),host=gk-many-\(i)" : "host=gk-many-\(i)"
                #expect(cache.group(series: s, dimensions: dims).rawValue == expected)
            }
        }
    }
}

@Suite("Per-group tables looked up by group storage")
struct GroupTableTests {
    final class Box {
        let value: Int
        init(_ value: Int) { self.value = value }
    }

    @Test("finds what was set, under the same storage or an equal group of another")
    func findAndSet() {
        var table = GroupTable<Box>()
        let a = GroupID("host=a")
        #expect(table.find(a) == nil)
        table[a] = Box(1)
        #expect(table.find(a)?.value == 1 && table.find(a)?.value == 1)
        #expect(table.find(GroupID("host=" + "a"))?.value == 1)
        #expect(table[GroupID("host=a")]?.value == 1)
        #expect(table.find(GroupID("host=b")) == nil)
        #expect(table.count == 1)
    }

    @Test("a removed or replaced group's old value is not found again")
    func removeAndReplace() {
        var table = GroupTable<Box>()
        let a = GroupID("host=a"), equal = GroupID("host=" + "a")
        table[a] = Box(1)
        #expect(table.find(a)?.value == 1 && table.find(equal)?.value == 1)
        table[equal] = Box(2)
        #expect(table.find(a)?.value == 2 && table.find(equal)?.value == 2)
        table[a] = nil
        #expect(table.find(a) == nil && table.find(equal) == nil && table.count == 0)
    }

    @Test("many groups, looked up in turn, each find their own value")
    func manyGroups() {
        var table = GroupTable<Box>()
        let groups = (0..<5000).map { GroupID("host=\($0)") }
        for (i, g) in groups.enumerated() { table[g] = Box(i) }
        for _ in 0..<2 {
            for (i, g) in groups.enumerated() { #expect(table.find(g)?.value == i) }
        }
        #expect(table.count == 5000)
    }
}
