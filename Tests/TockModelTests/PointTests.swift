import Testing
@testable import TockModel

@Suite("Points share their series")
struct PointSeriesTests {
    @Test("a point reads its name, tags, database and retention policy from its series")
    func readsThroughSeries() {
        let series = SeriesKey(name: "cpu", tags: ["host": "a"], database: "db", retentionPolicy: "rp")
        let p = Point(series: series, fields: ["value": .double(1)], time: 5)
        #expect(p.name == "cpu" && p.tags == ["host": "a"] && p.database == "db" && p.retentionPolicy == "rp")
        #expect(p.series === series)
        let q = Point(name: "cpu", tags: ["host": "a"], fields: ["value": .double(1)], time: 5, database: "db",
                      retentionPolicy: "rp")
        #expect(q.series !== series)
        #expect(p == q && p.hashValue == q.hashValue, "equality and hashing are by value, not by series identity")
    }

    @Test("changing a point's name, tags, database or retention policy changes that point only")
    func changesAreThePointsOwn() {
        let series = SeriesInterner(limit: 4).intern(SeriesKey(name: "cpu", tags: ["host": "a"], database: "db"))
        let original = Point(series: series, fields: ["value": .double(1)], time: 1)
        var p = original
        p.name = "mem"
        p.tags["zone"] = "1"
        p.database = "other"
        p.retentionPolicy = "week"
        #expect(p.name == "mem" && p.tags == ["host": "a", "zone": "1"] && p.database == "other"
            && p.retentionPolicy == "week")
        #expect(original.name == "cpu" && original.tags == ["host": "a"] && original.database == "db"
            && original.retentionPolicy == "")
        #expect(series.name == "cpu" && series.tags == ["host": "a"])
        #expect(p != original && p.series !== series)
    }

    @Test("setting a member to the value it has keeps the shared series")
    func unchangedKeepsSeries() {
        let series = SeriesKey(name: "cpu", tags: ["host": "a"], database: "db", retentionPolicy: "rp")
        var p = Point(series: series, fields: ["value": .double(1)], time: 1)
        p.name = "cpu"
        p.tags = p.tags
        p.database = "db"
        p.retentionPolicy = "rp"
        #expect(p.series === series)
        p.tags["host"] = "a"
        #expect(p.series !== series && p.tags == series.tags, "a changed copy of the tags, even to equal values")
    }

    @Test("a point is a series reference, its fields, time, group and dimensions: 80 bytes, a group one reference")
    func compact() {
        #expect(MemoryLayout<GroupID>.size == 8)
        #expect(MemoryLayout<Point>.size == 80)
    }

    @Test("points differ when any member differs")
    func inequality() {
        let p = Point(name: "cpu", tags: ["host": "a"], fields: ["value": .double(1)], time: 1)
        var q = p
        #expect(p == q)
        q.time = 2
        #expect(p != q)
        q = p
        q.retentionPolicy = "rp"
        #expect(p != q)
        q = p
        q.group = GroupID("host=a")
        #expect(p != q)
        q = p
        q.dimensions = Dimensions(tagNames: ["host"])
        #expect(p != q)
        q = p
        q.fields["value"] = .double(2)
        #expect(p != q)
    }
}

@Suite("Group IDs")
struct GroupIDTests {
    @Test("groups are equal and hash alike by their text, whatever their storage")
    func equalityByText() {
        let a = GroupID("host=a"), b = GroupID("host=" + "a")
        #expect(a.storageIdentity != b.storageIdentity)
        #expect(a == b && a.hashValue == b.hashValue)
        #expect(a != GroupID("host=b"))
        let table: [GroupID: Int] = [a: 1]
        #expect(table[b] == 1)
    }

    @Test("the empty group is .none, one shared storage")
    func none() {
        #expect(GroupID("") == .none && GroupID("").storageIdentity == GroupID.none.storageIdentity)
        #expect(GroupID(name: "cpu", tags: ["host": "a"], dimensions: .none).storageIdentity == GroupID.none.storageIdentity)
        #expect(GroupID.none.rawValue == "")
    }

    @Test("a group's text can be replaced, leaving its copies alone")
    func rawValueSet() {
        let original = GroupID("host=a")
        var changed = original
        changed.rawValue = "host=b"
        #expect(changed == GroupID("host=b") && original.rawValue == "host=a")
        #expect(GroupID(name: "cpu", tags: ["host": "a", "dc": "x"], dimensions: Dimensions(byName: true, tagNames: ["host", "dc"]))
            .rawValue == "cpu\ndc=x,host=a")
    }
}
