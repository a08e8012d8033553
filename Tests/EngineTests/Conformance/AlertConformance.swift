import Foundation
import Testing

/// The alert node against Kapacitor 1.8's `alert.go` and `pipeline/alert.go`: levels, ids, recoveries, and
/// the log handler's file mode.
@Suite("Conformance: alert")
struct AlertConformance {
    static let cases: [ConformanceCase] = [
        ConformanceCase(
            name: "levels rise and recover; OK is sent only as a recovery; the default id is name:group",
            script: """
                stream
                    |from()
                        .measurement('cpu')
                        .groupBy('host')
                    |alert()
                        .warn(lambda: "value" > 70)
                        .crit(lambda: "value" > 90)
                """,
            input: """
                cpu,host=a value=50 0
                cpu,host=a value=75 1
                cpu,host=a value=95 2
                cpu,host=a value=60 3
                cpu,host=a value=55 4
                """,
            expected: """
                cpu,host=a value=75.0 1s group(host=a)
                cpu,host=a value=95.0 2s group(host=a)
                cpu,host=a value=60.0 3s group(host=a)
                """,
            alerts: """
                WARNING cpu:host=a 1970-01-01T00:00:01Z
                CRITICAL cpu:host=a 1970-01-01T00:00:02Z
                OK cpu:host=a 1970-01-01T00:00:03Z
                """),
        ConformanceCase(
            name: "ungrouped data has the group nil in its id; stateChangesOnly sends a level once",
            script: """
                stream
                    |from()
                        .measurement('cpu')
                    |alert()
                        .crit(lambda: "value" > 90)
                        .stateChangesOnly()
                """,
            input: "cpu value=95 0\ncpu value=96 1\ncpu value=10 2",
            expected: "cpu value=95.0 0s\ncpu value=10.0 2s",
            alerts: """
                CRITICAL cpu:nil 1970-01-01T00:00:00Z
                OK cpu:nil 1970-01-01T00:00:02Z
                """),
    ]

    @Test("levels, ids and recoveries", arguments: cases) func alert(_ c: ConformanceCase) throws { try Conformance.check(c) }

    @Test("alert .log(path).mode(0644): the file the handler creates has mode 0644 exactly")
    func logFileMode() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("alerts.log").path
        try Conformance.check(ConformanceCase(
            name: "log mode",
            script: "stream\n    |from()\n    |alert()\n        .crit(lambda: \"value\" > 90)\n        .log('\(path)')\n            .mode(0644)\n",
            input: "cpu value=95 0",
            expected: "cpu value=95.0 0s"))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("{\"id\":\"cpu:nil\""))
    }
}

/// Scripts refused when the task is defined: each error names its line and column (of the `|` that makes the
/// node or the `.` of the property).
@Suite("Conformance: define-time errors")
struct ErrorConformance {
    static let cases: [ConformanceError] = [
        ConformanceError(
            name: "an unknown property, with the list of what exists",
            script: "stream\n    |from()\n    |window()\n        .perod(10s)\n",
            at: "4:9", message: "period"),
        ConformanceError(
            name: "eval .tags() naming a result that .as() does not give",
            script: "stream\n    |from()\n    |eval(lambda: \"v\")\n        .as('a')\n        .tags('b')\n",
            at: "3:5", message: "tag \"b\" in .tags() is not one of the names in .as()"),
        ConformanceError(
            name: "eval with fewer names than expressions",
            script: "stream\n    |from()\n    |eval(lambda: \"v\", lambda: \"w\")\n        .as('a')\n",
            at: "3:5", message: "give one name per expression"),
        ConformanceError(
            name: "changeDetect with no field",
            script: "stream\n    |from()\n    |changeDetect()\n",
            at: "3:5", message: "changeDetect"),
        ConformanceError(
            name: "a log file mode that is no mode",
            script: "stream\n    |from()\n    |alert()\n        .crit(lambda: TRUE)\n        .log('/tmp/a.log')\n        .mode(99999)\n",
            at: "6:9", message: "invalid file mode"),
        ConformanceError(
            name: "derivative with a unit of zero",
            script: "stream\n    |from()\n    |derivative('value')\n        .unit(0s)\n",
            at: "3:5", message: "unit must be positive"),
    ]

    @Test("each error names its line and column", arguments: cases) func error(_ c: ConformanceError) { Conformance.check(c) }
}
