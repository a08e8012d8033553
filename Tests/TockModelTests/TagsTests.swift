import Testing
import TockModel

@Suite struct TagsSpecification {
    @Test func tagsStaySortedAndUnique() {
        var tags: Tags = ["region": "eu", "host": "a"]
        tags["host"] = "b"
        tags["az"] = "1"
        #expect(tags.sortedKeys == ["az", "host", "region"])
        #expect(tags["host"] == "b")
        tags["az"] = nil
        #expect(tags.count == 2)
    }

    @Test func copiesShareStorageUntilOneChanges() {
        let original: Tags = ["host": "a", "region": "eu"]
        var copy = original
        #expect(copy.storageIdentity == original.storageIdentity, "copies share their storage")
        copy["host"] = "b"
        #expect(original["host"] == "a", "changing a copy leaves the original alone")
        #expect(copy["host"] == "b")
        #expect(copy.storageIdentity != original.storageIdentity)
        copy["host"] = "a"
        #expect(copy == original && copy.hashValue == original.hashValue, "equal by content, not by storage")
        var emptied = Tags(sortedKeys: ["k"], values: ["v"])
        emptied["k"] = nil
        #expect(emptied == Tags() && emptied.isEmpty)
        var fromEmpty = Tags()
        fromEmpty["k"] = "v"
        #expect(Tags().isEmpty && Tags(sortedKeys: [], values: []).isEmpty, "adding to an empty set changes no other")
        #expect(emptied.storageIdentity == Tags().storageIdentity && Tags([:]).storageIdentity == Tags().storageIdentity,
                "every empty set has the same identity")
        #expect(fromEmpty.sortedKeys == ["k"] && fromEmpty["k"] == "v")
        #expect(original.storageIdentity.keys != 0)
    }

    @Test func groupIDSpellsGroupingTagsLikeKapacitor() {
        let tags: Tags = ["host": "a", "region": "eu", "cpu": "0"]
        #expect(GroupID(name: "cpu", tags: tags, dimensions: Dimensions(tagNames: ["region", "host"])).rawValue == "host=a,region=eu")
        #expect(GroupID(name: "cpu", tags: tags, dimensions: Dimensions(byName: true, tagNames: ["host"])).rawValue == "cpu\nhost=a")
        #expect(GroupID(name: "cpu", tags: tags, dimensions: .none) == .none)
    }

    @Test(arguments: [
        (Int64(0), "0s"), (5 * GoDuration.minute, "5m0s"), (90 * GoDuration.minute, "1h30m0s"),
        (1_500 * GoDuration.millisecond, "1.5s"), (300 * GoDuration.millisecond, "300ms"), (-GoDuration.second, "-1s"),
    ])
    func durationsPrintAsGoDoes(ns: Int64, text: String) {
        #expect(GoDuration.format(ns) == text)
        #expect(GoDuration.parse(text) == ns, "what format prints parses back")
    }

    @Test func durationsParseGoSyntaxAndInfluxQLDaysOnlyWhenAsked() {
        #expect(GoDuration.parse("1h30m") == 90 * GoDuration.minute)
        #expect(GoDuration.parse("300us") == 300 * GoDuration.microsecond)
        #expect(GoDuration.parse("2d") == nil)
        #expect(GoDuration.parse("2d", days: true) == 48 * GoDuration.hour)
        #expect(GoDuration.parse("1w", days: true) == 168 * GoDuration.hour)
        #expect(GoDuration.parse("10 seconds") == nil)
        #expect(GoDuration.parse("") == nil)
    }
}
