import Testing
import TICKScript
import TockModel
@testable import Engine

/// Nodes that keep state per group (Kapacitor's grouped consumers) forget a deleted group and hand the deletion on.
@Suite("group deletion")
struct GroupDeletionTests {
    /// A node built from its script form, fed points of group host=a before and after a deletion of the group.
    static let cases: [(script: String, before: [Double], after: [Double], emitted: Int)] = [
        // changeDetect: the same value passes again once the group is new.
        ("changeDetect('v')", [1, 1], [1], 2),
        // sample(2): the count starts over (1st kept, 2nd dropped; after: 1st kept).
        ("sample(2)", [1, 1], [1], 2),
        // derivative: no previous point after the deletion, so the first point emits nothing.
        ("derivative('v')", [1, 2], [5], 1),
        // stateCount: counts 1, 2, then 1 again.
        ("stateCount(lambda: \"v\" > 0)", [1, 1], [1], 3),
        // where with a stateful function: sigma starts over.
        ("where(lambda: sigma(\"v\") == 0.0)", [1, 5], [9], 2),
    ]

    @Test("state is forgotten on deleteGroup and the deletion goes on", arguments: cases)
    func forgets(_ c: (script: String, before: [Double], after: [Double], emitted: Int)) throws {
        let program = try Program.parse("stream|from()|\(c.script)")
        let pipeline = try TaskBuilder(taskID: "t").build(program)
        let node = try #require(pipeline.nodes.last).node
        let out = SignalRecordingOutput()
        var t: Int64 = 0
        for v in c.before {
            t += 1
            try node.receive(.point(hostPoint("a", at: t, ["v": .double(v)])), port: 0, output: out)
        }
        try node.deleteGroup(hostGroup("a"), port: 0, output: out)
        for v in c.after {
            t += 1
            try node.receive(.point(hostPoint("a", at: t, ["v": .double(v)])), port: 0, output: out)
        }
        #expect(out.points.count == c.emitted, "\(c.script): \(out.points.map(\.fields))")
        #expect(out.deletions == [hostGroup("a")])
    }
}
