import Foundation
import Testing

/// `tock test FILE…`: the shipped examples pass, and wrong or malformed test files fail with readable reasons.
@Suite struct TockTestSpecification {
    @Test func theThresholdAlertExamplePasses() throws {
        let r = try TockBinary.run(["test", "Tests/Fixtures/tocktest/cpu_alert.test.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS  a busy host goes warning, then critical, then back to OK (5 points in, 3 alerts)"))
        #expect(r.stdout.contains("PASS  an idle host raises nothing"))
        #expect(r.stdout.hasSuffix("2 passed, 0 failed\n"))
    }

    @Test func theWindowMeanExampleInTOMLPasses() throws {
        let r = try TockBinary.run(["test", "Tests/Fixtures/tocktest/cpu_mean.test.toml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS  each host's one-minute mean (7 points in, 0 alerts)"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3 for the tTest UDF"))
    func thePrinterTaskExamplePassesWithItsUDFs() throws {
        let r = try TockBinary.run(["test", "SampleUDFs/printer/print_temps.test.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS  the hotend anomaly raises one critical alert, and clears (4500 points in, 2 alerts)"))
        #expect(r.stdout.contains("2 passed, 0 failed"))
    }

    @Test func aStreamRecordingIsACaseInput() throws {
        let r = try TockBinary.run(["test", "Tests/Fixtures/tocktest/recording.test.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS  the last point of each host, from a recording (4 points in, 0 alerts)"))
    }

    @Test func aBatchRecordingFeedsABatchTasksQuery() throws {
        let r = try TockBinary.run(["test", "Tests/Fixtures/tocktest/batch_alert.test.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS  a busy minute of host a is critical, then OK (3 points in, 2 alerts)"))
    }

    @Test func influxDBOutWritesAreCapturedAndCompared() throws {
        let r = try TockBinary.run(["test", "Tests/Fixtures/tocktest/influxdbout.test.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASS  each point is written to derived.week with its tags and the new tag (2 points in, 0 alerts)"))
    }

    @Test func aBatchTaskNeedsABatchRecordingAndTheDeclaredTypeMustMatch() throws {
        let dir = try temporaryDirectory()
        let text = """
            tickscript: |
              batch
                  |query('SELECT mean(usage) AS mean FROM "telegraf"."autogen"."cpu"')
                      .period(1m)
                      .every(1m)
                  |httpOut('x')
            type: TYPE
            cases:
              - input: {lines: "cpu v=1 0"}
                expect: {alertCount: 0}
            """
        try text.replacingOccurrences(of: "TYPE", with: "stream").write(toFile: dir + "/stream.test.yaml", atomically: true, encoding: .utf8)
        try text.replacingOccurrences(of: "TYPE", with: "batch").write(toFile: dir + "/batch.test.yaml", atomically: true, encoding: .utf8)
        let r = try TockBinary.run(["test", dir + "/stream.test.yaml", dir + "/batch.test.yaml"])
        #expect(r.status == 2)
        #expect(r.stdout.contains("ERROR \(dir)/stream.test.yaml: type is stream but the script is a batch task"), "\(r.stdout)")
        #expect(r.stdout.contains("ERROR \(dir)/batch.test.yaml:9:5: cases[0]: the script is a batch task (batch|query()): it replays a Kapacitor batch recording (.brpl), not inline lines"), "\(r.stdout)")
    }

    @Test func severalFilesAreSummedUp() throws {
        let r = try TockBinary.run(["test", "Tests/Fixtures/tocktest/cpu_alert.test.yaml", "Tests/Fixtures/tocktest/cpu_mean.test.toml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasSuffix("3 passed, 0 failed\n"))
    }

    @Test func aWrongExampleFailsWithEachDifference() throws {
        let r = try TockBinary.run(["test", "Tests/Fixtures/tocktest/wrong/cpu_alert_wrong.test.yaml"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains("FAIL  wrong level, wrong field and a missing alert (2 points in, 2 alerts) at Tests/Fixtures/tocktest/wrong/cpu_alert_wrong.test.yaml:4"))
        #expect(lines.contains("- alert #1 (cpu:a WARNING at 2016-01-01T00:00:10Z: cpu:a is WARNING: 75% used): level is WARNING, expected CRITICAL"))
        #expect(lines.contains("- alert #2 (cpu:a CRITICAL at 2016-01-01T00:00:20Z: cpu:a is CRITICAL: 95% used): field used is 95, expected 94.9 (tolerance 1e-09)"))
        #expect(lines.contains("- alerts: missing alert #3: id cpu:a OK"))
        #expect(lines.contains("- writes: missing write #1: cpu used=1"))
        #expect(lines.contains("PASS  right, between two wrong cases (1 point in, 0 alerts)"))
        #expect(lines.last == "1 passed, 2 failed")
    }

    @Test func aToleranceLetsCloseNumbersMatch() throws {
        let dir = try temporaryDirectory()
        let file = dir + "/close.test.yaml"
        try """
            script: \(TockBinary.root)/Tests/Fixtures/tocktest/cpu_alert.tick
            cases:
              - input: {lines: "cpu,host=a usage_idle=5 0"}
                expect:
                  tolerance: 0.2
                  alerts: [{level: CRITICAL, fields: {used: 94.9}}]
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let close = try TockBinary.run(["test", file])
        #expect(close.status == 0, "\(close.stdout)")
        try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "0.2", with: "0.01")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let far = try TockBinary.run(["test", file])
        #expect(far.status == 1)
        #expect(far.stdout.contains("field used is 95, expected 94.9 (tolerance 0.01)"))
    }

    @Test func namedNodeOutputThatDiffersShowsTheRowAndColumn() throws {
        let dir = try temporaryDirectory()
        let file = dir + "/mean.test.yaml"
        try """
            script: \(TockBinary.root)/Tests/Fixtures/tocktest/cpu_mean.tick
            cases:
              - name: means
                input:
                  precision: s
                  lines: |
                    cpu,host=a usage_user=10 1451606400
                    cpu,host=a usage_user=30 1451606430
                    cpu,host=a usage_user=99 1451606460
                expect:
                  output:
                    - node: mean3
                      series:
                        - {name: cpu, tags: {host: a}, columns: [time, mean], values: [[2016-01-01T00:01:00Z, 21]]}
                        - {name: cpu, tags: {host: b}, columns: [time, mean], values: [[2016-01-01T00:02:00Z, 1]]}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try TockBinary.run(["test", file])
        #expect(r.status == 1)
        #expect(r.stdout.contains("- output of mean3 series #1 row 1 mean: 20, expected 21 (tolerance 1e-09)"), "\(r.stdout)")
        #expect(r.stdout.contains("- output of mean3: missing series #2: cpu{host=b}"), "\(r.stdout)")

        try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "node: mean3", with: "node: mean7")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let unknown = try TockBinary.run(["test", file])
        #expect(unknown.stdout.contains("- output of mean7: the task has no node mean7 (its nodes: stream0, from1, window2, mean3, httpOut4)"), "\(unknown.stdout)")
    }

    @Test func aMalformedFileIsReportedWithLineColumnAndKeyPath() throws {
        let r = try TockBinary.run(["test", "Tests/Fixtures/tocktest/wrong/malformed.test.yaml",
                                    "Tests/Fixtures/tocktest/wrong/unknown_key.test.yaml",
                                    "Tests/Fixtures/tocktest/cpu_alert.test.yaml"])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("ERROR Tests/Fixtures/tocktest/wrong/malformed.test.yaml:9:18: cases[0].expect.alerts[0].level: level must be OK, INFO, WARNING or CRITICAL, got \"CRITCAL\""))
        #expect(r.stdout.contains("ERROR Tests/Fixtures/tocktest/wrong/unknown_key.test.yaml:7:7: cases[0].expect.alert: unknown key \"alert\""))
        // The other files still run.
        #expect(r.stdout.hasSuffix("2 passed, 0 failed, 2 files with errors\n"))
    }

    @Test func invalidYAMLAndABrokenScriptAreErrors() throws {
        let dir = try temporaryDirectory()
        try "cases: [\n  - {a: 1\n".write(toFile: dir + "/bad.test.yaml", atomically: true, encoding: .utf8)
        try """
            tickscript: |
              stream
                  |from()
                      .measurment('cpu')
            cases:
              - input: {lines: "cpu v=1 0"}
                expect: {alertCount: 0}
            """.write(toFile: dir + "/script.test.yaml", atomically: true, encoding: .utf8)
        let r = try TockBinary.run(["test", dir + "/bad.test.yaml", dir + "/script.test.yaml"])
        #expect(r.status == 2)
        #expect(r.stdout.contains("ERROR \(dir)/bad.test.yaml:2:3: not valid YAML"), "\(r.stdout)")
        // The script's line 3 is the test file's line 4.
        #expect(r.stdout.contains("ERROR \(dir)/script.test.yaml:4:9: unknown property \"measurment\" on from; did you mean \"measurement\"?"), "\(r.stdout)")
    }

    @Test func tomlProblemsAreReportedWithLineColumnOrKeyPath() throws {
        let dir = try temporaryDirectory()
        try "script = \"x.tick\"\n[[cases]\nname = 1\n".write(toFile: dir + "/bad.test.toml", atomically: true, encoding: .utf8)
        try """
            tickscript = "stream|from()|httpOut('x')"
            [[cases]]
            name = "c"
            [cases.input]
            lines = "cpu v=1 0"
            [cases.expect]
            alertCont = 1
            """.write(toFile: dir + "/key.test.toml", atomically: true, encoding: .utf8)
        let r = try TockBinary.run(["test", dir + "/bad.test.toml", dir + "/key.test.toml"])
        #expect(r.status == 2)
        #expect(r.stdout.contains("ERROR \(dir)/bad.test.toml:2:9: not valid TOML"), "\(r.stdout)")
        // TOML keeps no positions for values: the key path says where.
        #expect(r.stdout.contains("ERROR \(dir)/key.test.toml: cases[0].expect.alertCont: unknown key \"alertCont\""), "\(r.stdout)")
    }

    @Test func helpDocumentsTheFormat() throws {
        let r = try TockBinary.run(["test", "--help"])
        for key in ["tickscript:", "alertCount:", "httpOut:", "writes:", "recording", "tolerance:"] {
            #expect(r.stdout.contains(key), "help lacks \(key)")
        }
    }

    private func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "tock-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
