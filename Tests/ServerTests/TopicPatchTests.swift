@testable import Server
import Testing

/// The JSON Patch (RFC 6902) that `PATCH /alerts/topics/{topic}/handlers/{id}` applies.
@Suite("JSON Patch of topic handlers")
struct TopicPatchTests {
    static let handler: JSON = .object([("id", .string("ops")), ("topic", .string("cpu")), ("kind", .string("slack")),
                                        ("options", .object([("channel", .string("#ops")), ("tags", .array([.string("a")]))])),
                                        ("match", .string(""))])

    func patched(_ patch: String) throws -> JSON {
        try JSONPatch.apply(JSONPatch.operations(JSON.parse(Array(patch.utf8))), to: Self.handler)
    }

    func failure(_ patch: String) -> String? {
        do { _ = try patched(patch) } catch { return "\(error)" }
        return nil
    }

    @Test("add, remove, replace, move, copy and test, in order, with ~1 and ~0 escapes and array indexes")
    func operations() throws {
        let result = try patched("""
            [{"op": "test", "path": "/kind", "value": "slack"},
             {"op": "replace", "path": "/options/channel", "value": "#oncall"},
             {"op": "add", "path": "/options/tags/-", "value": "b"},
             {"op": "add", "path": "/options/tags/0", "value": "z"},
             {"op": "remove", "path": "/options/tags/1"},
             {"op": "copy", "from": "/options/channel", "path": "/options/a~1b"},
             {"op": "move", "from": "/match", "path": "/options/m~0"}]
            """)
        #expect(result.serialized == ##"{"id":"ops","topic":"cpu","kind":"slack","options":{"channel":"#oncall","tags":["z","b"],"a/b":"#oncall","m~":""}}"##)
    }

    @Test("a failed test, a missing path or a malformed operation refuses the whole patch, naming the problem")
    func refusals() {
        #expect(failure(#"[{"op": "test", "path": "/kind", "value": "log"}]"#) == "test failed at /kind")
        #expect(failure(#"[{"op": "replace", "path": "/nope", "value": 1}]"#) == "path /nope does not exist")
        #expect(failure(#"[{"op": "add", "path": "/options/tags/5", "value": 1}]"#) == "index 5 out of range at /options/tags/5")
        #expect(failure(#"[{"op": "jump", "path": "/id"}]"#) == "operation 0: unknown op \"jump\" (add, remove, replace, move, copy or test)")
        #expect(failure(#"[{"op": "add", "path": "/id"}]"#) == "operation 0 (add) has no \"value\"")
        #expect(failure(#"{"op": "add"}"#) == "a JSON patch must be an array of operations")
        #expect(failure(#"[{"op": "add", "path": "id", "value": 1}]"#) == "invalid JSON pointer \"id\": it must start with /")
    }
}
