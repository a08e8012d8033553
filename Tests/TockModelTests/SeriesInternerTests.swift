import Testing
@testable import TockModel

@Suite("SeriesKey interning")
struct SeriesInternerTests {
    @Test("equal tag sets intern to one storage, equal to what went in")
    func tagsShareStorage() {
        let interner = SeriesInterner(limit: 10)
        let a: Tags = ["host": "a", "region": "eu"]
        let b: Tags = ["region": "eu", "host": "a"]
        #expect(a.storageIdentity != b.storageIdentity)
        let ia = interner.intern(a), ib = interner.intern(b)
        #expect(ia == a && ib == b)
        #expect(ia.storageIdentity == ib.storageIdentity)
        // Not the caller's storage: the interner keeps a copy of its own.
        #expect(ia.storageIdentity != a.storageIdentity)
        #expect(interner.intern(["host": "other"]).storageIdentity != ia.storageIdentity)
        #expect(interner.counts.tags == 2)
    }

    @Test("changing a copy of interned tags leaves the interned set alone")
    func copyOnWrite() {
        let interner = SeriesInterner(limit: 10)
        let interned = interner.intern(["host": "a"])
        var copy = interned
        copy["host"] = "b"
        copy["zone"] = "1"
        #expect(interned == ["host": "a"])
        #expect(copy == ["host": "b", "zone": "1"])
        #expect(interner.intern(["host": "a"]).storageIdentity == interned.storageIdentity)
        #expect(interner.intern(["host": "a"])["host"] == "a")
    }

    @Test("field-key lists intern to one array; a changed copy is a new array")
    func fieldKeys() {
        let interner = SeriesInterner(limit: 10)
        let keys = interner.intern(fieldKeys: ["a", "value"])
        let again = interner.intern(fieldKeys: ["a", "value"])
        #expect(keys == ["a", "value"])
        keys.withUnsafeBufferPointer { k in again.withUnsafeBufferPointer { #expect(k.baseAddress == $0.baseAddress) } }
        var copy = again
        copy.append("z")
        #expect(keys == ["a", "value"] && copy == ["a", "value", "z"])
        #expect(interner.intern(fieldKeys: []) == [])
        #expect(interner.counts.fieldKeys == 1)
    }

    @Test("empty sets are not interned, and a full interner hands back what it gets")
    func limits() {
        let interner = SeriesInterner(limit: 2)
        #expect(interner.intern(Tags()).isEmpty)
        let first = interner.intern(["k": "1"]), second = interner.intern(["k": "2"])
        let third: Tags = ["k": "3"]
        #expect(interner.intern(third).storageIdentity == third.storageIdentity)
        #expect(interner.counts.tags == 2)
        // The ones already in are still found.
        #expect(interner.intern(["k": "1"]).storageIdentity == first.storageIdentity)
        #expect(interner.intern(["k": "2"]).storageIdentity == second.storageIdentity)
    }

    @Test("interned tags are shared safely across threads")
    func concurrentUse() async {
        let interner = SeriesInterner(limit: 100)
        let interned = interner.intern(["host": "shared"])
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var n = 0
                    for i in 0..<10_000 {
                        var copy = interned
                        if i % 100 == 0 { copy["i"] = String(i) }
                        n += copy.count
                    }
                    return n
                }
            }
            var total = 0
            for await n in group { total += n }
            #expect(total == 4 * (10_000 + 100))
        }
        #expect(interned == ["host": "shared"])
    }
}

@Suite("SeriesKey, groups and dimensions interning")
struct SeriesAndGroupInterningTests {
    @Test("equal series intern to one object, with interned tags, equal to what went in")
    func series() {
        let interner = SeriesInterner(limit: 10)
        let a = SeriesKey(name: "cpu", tags: ["host": "a"], database: "db", retentionPolicy: "rp")
        let b = SeriesKey(name: "cpu", tags: ["host": "a"], database: "db", retentionPolicy: "rp")
        let ia = interner.intern(a), ib = interner.intern(b)
        #expect(ia === ib && ia !== a && ia == a)
        #expect(ia.tags.storageIdentity == interner.intern(["host": "a"]).storageIdentity)
        #expect(interner.intern(SeriesKey(name: "cpu", tags: ["host": "a"], database: "other")) !== ia)
        #expect(interner.intern(SeriesKey(name: "mem", tags: ["host": "a"], database: "db", retentionPolicy: "rp")) !== ia)
        #expect(interner.seriesAndGroupCounts.series == 3)
    }

    @Test("a full interner hands back the series it gets and still finds the ones it holds")
    func seriesLimit() {
        let interner = SeriesInterner(limit: 1)
        let first = interner.intern(SeriesKey(name: "a"))
        let other = SeriesKey(name: "b")
        #expect(interner.intern(other) === other)
        #expect(interner.intern(SeriesKey(name: "a")) === first)
    }

    @Test("equal groups intern to one storage; the empty group stays .none")
    func groups() {
        let interner = SeriesInterner(limit: 2)
        let a = interner.intern(GroupID("host=a")), b = interner.intern(GroupID("host=" + "a"))
        #expect(a.storageIdentity == b.storageIdentity && a == GroupID("host=a"))
        #expect(interner.intern(GroupID.none).storageIdentity == GroupID.none.storageIdentity)
        _ = interner.intern(GroupID("host=b"))
        let beyond = GroupID("host=c")
        #expect(interner.intern(beyond).storageIdentity == beyond.storageIdentity, "full: handed back as it is")
        #expect(interner.seriesAndGroupCounts.groups == 2)
    }

    @Test("interned dimensions are equal to the originals and share one tag-name array")
    func dimensions() {
        let interner = SeriesInterner(limit: 4)
        let a = interner.intern(Dimensions(byName: true, tagNames: ["host", "dc"]))
        let b = interner.intern(Dimensions(byName: false, tagNames: ["dc", "host"]))
        #expect(a == Dimensions(byName: true, tagNames: ["host", "dc"]) && a.tagNames == ["dc", "host"])
        #expect(!b.byName)
        a.tagNames.withUnsafeBufferPointer { x in b.tagNames.withUnsafeBufferPointer { #expect(x.baseAddress == $0.baseAddress) } }
    }
}
