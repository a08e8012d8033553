import Testing
import TockModel
@testable import Engine

@Suite("Alert levels and emission")
struct AlertStateTests {
    typealias F = AlertFixtures

    /// Kapacitor's AlertNode documentation: info > 60 (reset < 50), warn > 70 (reset < 60),
    /// crit > 80 (reset < 70) over 61 73 64 85 62 56 47.
    @Test func documentationExampleWithResets() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(
                info: F.above(60), warn: F.above(70), crit: F.above(80),
                infoReset: F.below(50), warnReset: F.below(60), critReset: F.below(70))
        })
        let out = try F.run(node, [61, 73, 64, 85, 62, 56, 47])
        #expect(out.levels == ["INFO", "WARNING", "WARNING", "CRITICAL", "INFO", "INFO", "OK"])
    }

    @Test func withoutResetsTheLevelFollowsTheValue() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(info: F.above(60), warn: F.above(70), crit: F.above(80))
        })
        let out = try F.run(node, [61, 73, 64, 85, 62, 56, 47])
        // 56 is OK (a recovery); 47 is OK again and not sent.
        #expect(out.levels == ["INFO", "WARNING", "INFO", "CRITICAL", "INFO", "OK"])
    }

    @Test("the documentation's sequence under stateChangesOnly: with the Reset lambdas the repeated levels go")
    func documentationExampleWithStateChangesOnly() throws {
        let withResets = AlertNode(options: try F.options {
            $0.selector = LevelSelector(
                info: F.above(60), warn: F.above(70), crit: F.above(80),
                infoReset: F.below(50), warnReset: F.below(60), critReset: F.below(70))
            $0.stateChangesOnly = true
        })
        #expect(try F.run(withResets, [61, 73, 64, 85, 62, 56, 47]).levels == ["INFO", "WARNING", "CRITICAL", "INFO", "OK"])
        // Without them every level differs from the one before, so nothing is left out.
        let without = AlertNode(options: try F.options {
            $0.selector = LevelSelector(info: F.above(60), warn: F.above(70), crit: F.above(80))
            $0.stateChangesOnly = true
        })
        #expect(try F.run(without, [61, 73, 64, 85, 62, 56, 47]).levels == ["INFO", "WARNING", "INFO", "CRITICAL", "INFO", "OK"])
    }

    /// Kapacitor's weighted share of changes over `.history(6)` (alert.go `percentChange`, its oldest-first weights
    /// starting at the newest slot), worked by hand for the documentation's values then eight points at 90:
    /// 0.336 0.336 0.56 0.768 0.96 0.96 0.8 | 0.96 0.4 0.592 0.384 0.368 0.0 0.0 0.0. Over 0.5 it flaps; under 0.25
    /// it stops; nothing is sent while it flaps.
    @Test("the documentation's sequence with flapping(0.25, 0.5) and history(6): silent while flapping")
    func documentationExampleWithFlapping() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(info: F.above(60), warn: F.above(70), crit: F.above(80))
            $0.flapping = AlertState.Flapping(low: 0.25, high: 0.5)
            $0.history = 6
        })
        let out = try F.run(node, [61, 73, 64, 85, 62, 56, 47] + Array(repeating: 90, count: 8))
        #expect(out.levels == ["INFO", "WARNING", "CRITICAL", "CRITICAL", "CRITICAL"])
        let seconds = out.alerts.map { json in json.range(of: "\"time\":\"1970-01-01T00:00:")
            .map { String(json[$0.upperBound...].prefix(2)) } ?? "?" }
        #expect(seconds == ["00", "01", "12", "13", "14"])
    }

    @Test func okIsSentOnlyAsARecovery() throws {
        let node = AlertNode(options: try F.options { $0.selector = LevelSelector(crit: F.above(80)) })
        let out = try F.run(node, [10, 90, 10, 10])
        #expect(out.levels == ["CRITICAL", "OK"])
        // The node passes on exactly the points it alerted on.
        #expect(out.emitted.count == 2)
    }

    @Test func stateChangesOnlySuppressesRepeats() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(crit: F.above(80))
            $0.stateChangesOnly = true
        })
        let out = try F.run(node, [90, 91, 92, 50, 93, 94])
        #expect(out.levels == ["CRITICAL", "OK", "CRITICAL"])
    }

    @Test func stateChangesOnlyResendsAfterTheMaximumInterval() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(crit: F.above(80))
            $0.stateChangesOnly = true
            $0.maxInterval = 3 * F.second
        })
        // One point a second: sent at 0 s, then again at 3 s (3 s after the last event), then 6 s.
        let out = try F.run(node, [90, 90, 90, 90, 90, 90, 90])
        #expect(out.alerts.count == 3)
        #expect(out.alerts.map { $0.contains("\"time\":\"1970-01-01T00:00:0") } == [true, true, true])
        #expect(out.alerts[1].contains("\"time\":\"1970-01-01T00:00:03Z\""))
        #expect(out.alerts[2].contains("\"time\":\"1970-01-01T00:00:06Z\""))
    }

    @Test func noRecoveriesDropsOkEventsAndMarksEventsUnrecoverable() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(crit: F.above(80))
            $0.noRecoveries = true
        })
        let out = try F.run(node, [90, 50, 90])
        #expect(out.levels == ["CRITICAL", "CRITICAL"])
        #expect(out.alerts.allSatisfy { $0.hasSuffix("\"recoverable\":false}") })
        // The second CRITICAL starts a new alert: its previous event was CRITICAL, its duration 0.
        #expect(out.alerts[1].contains("\"duration\":0,"))
        #expect(out.emitted.count == 2)
    }

    @Test func durationRunsFromTheFirstTriggerAndRecoveryCarriesIt() throws {
        let node = AlertNode(options: try F.options { $0.selector = LevelSelector(crit: F.above(80)) })
        let out = try F.run(node, [90, 95, 50, 90])
        let durations = out.alerts.map { json -> String in
            let r = json.range(of: "\"duration\":")!
            return String(json[r.upperBound...].prefix { $0 != "," })
        }
        #expect(durations == ["0", "1000000000", "2000000000", "0"])
        #expect(out.levels == ["CRITICAL", "CRITICAL", "OK", "CRITICAL"])
        #expect(out.alerts.map { $0.contains("\"previousLevel\":\"CRITICAL\"") } == [false, true, true, false])
    }

    @Test func eachGroupHasItsOwnState() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(crit: F.above(80))
            $0.stateChangesOnly = true
        })
        let out = AlertRecordingOutput()
        for (i, (host, v)) in [("a", 90.0), ("b", 90), ("a", 91), ("b", 50), ("a", 50)].enumerated() {
            try node.receive(F.point(v, at: Int64(i), tags: ["host": host], group: ["host"]), port: 0, output: out)
        }
        #expect(out.levels == ["CRITICAL", "CRITICAL", "OK", "OK"])
        #expect(out.alerts.map { $0.hasPrefix("{\"id\":\"cpu:host=a\"") } == [true, false, false, true])
    }

    @Test func percentChangeWeighsTheHistoryAsKapacitorDoes() {
        // History 3: weights 0.8 then 1.0; the comparisons are newest/previous and oldest/newest.
        var state = AlertState(historySize: 3)
        state.add(level: .critical, at: 0)  // [OK, CRIT*, OK]: both comparisons differ → 1.8 / 2
        #expect(abs(state.percentChange - 0.9) < 1e-12)
        state.add(level: .critical, at: 1)  // [OK, CRIT, CRIT*]: only oldest/newest differs → 1.0 / 2
        #expect(abs(state.percentChange - 0.5) < 1e-12)
        state.add(level: .critical, at: 2)  // all CRITICAL
        #expect(state.percentChange == 0)
    }

    @Test func flappingSilencesEventsUntilTheChangeRateFalls() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(crit: F.above(80))
            $0.history = 3
            $0.flapping = AlertState.Flapping(low: 0.4, high: 0.8)
        })
        // Change rates 0.9 (flapping starts), 0.5 (still above low), 0 (flapping ends).
        let out = try F.run(node, [90, 90, 90])
        #expect(out.levels == ["CRITICAL"])
        #expect(out.alerts[0].contains("\"time\":\"1970-01-01T00:00:02Z\""))
    }

    @Test func aBatchTakesItsHighestLevelAndThatPointsTime() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(warn: F.above(70), crit: F.above(80))
        })
        let out = AlertRecordingOutput()
        let batch = Batch(name: "cpu", tmax: 10 * F.second, points: [
            BatchPoint(time: 1 * F.second, fields: ["value": .double(75)]),
            BatchPoint(time: 2 * F.second, fields: ["value": .double(85)]),
            BatchPoint(time: 3 * F.second, fields: ["value": .double(50)]),
        ])
        try node.receive(.batch(batch), port: 0, output: out)
        #expect(out.levels == ["CRITICAL"])
        #expect(out.alerts[0].contains("\"time\":\"1970-01-01T00:00:02Z\""))
        // The data is the whole batch.
        #expect(out.alerts[0].contains("\"values\":[[\"1970-01-01T00:00:01Z\",75],[\"1970-01-01T00:00:02Z\",85],[\"1970-01-01T00:00:03Z\",50]]"))
        // Recovery: an all-OK batch is sent at its tmax.
        let ok = Batch(name: "cpu", tmax: 20 * F.second, points: [BatchPoint(time: 15 * F.second, fields: ["value": .double(1)])])
        try node.receive(.batch(ok), port: 0, output: out)
        #expect(out.levels == ["CRITICAL", "OK"])
        #expect(out.alerts[1].contains("\"time\":\"1970-01-01T00:00:20Z\""))
    }

    @Test func allTakesTheLowestLevelAtTmax() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(warn: F.above(70), crit: F.above(80))
            $0.all = true
        })
        let out = AlertRecordingOutput()
        let batch = Batch(name: "cpu", tmax: 10 * F.second, points: [
            BatchPoint(time: 1 * F.second, fields: ["value": .double(75)]),
            BatchPoint(time: 2 * F.second, fields: ["value": .double(85)]),
        ])
        try node.receive(.batch(batch), port: 0, output: out)
        #expect(out.levels == ["WARNING"])
        #expect(out.alerts[0].contains("\"time\":\"1970-01-01T00:00:10Z\""))
    }

    @Test func aConditionThatFailsCountsAsFalseAndIsLogged() throws {
        struct Boom: Error {}
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(warn: F.above(70), crit: { _ in throw Boom() })
        })
        let out = try F.run(node, [75])
        #expect(out.levels == ["WARNING"])
        #expect(out.logs.contains { $0.hasPrefix("ERROR error evaluating expression for level CRITICAL") })
    }

    @Test func anActiveInhibitorSilencesTheHandlersOfItsCategoryForMatchingTags() throws {
        let lookup = InhibitorLookup()
        let inhibitor = AlertNode(options: try F.options {
            $0.selector = LevelSelector(crit: F.above(80))
            $0.inhibits = [("system", ["host"])]
            $0.inhibitorLookup = lookup
        })
        let recorder = RecordingAlertService()
        let inhibited = AlertNode(options: try F.options {
            $0.selector = LevelSelector(crit: F.above(80))
            $0.category = "system"
            $0.inhibitorLookup = lookup
        }, service: recorder)
        let a = AlertRecordingOutput(), b = AlertRecordingOutput()
        func host(_ h: String, _ v: Double, _ t: Int64) -> Message { F.point(v, at: t, tags: ["host": h, "cpu": "0"], group: ["host"]) }
        try inhibitor.receive(host("a", 90, 0), port: 0, output: a)   // host=a is down: inhibits host=a
        try inhibited.receive(host("a", 95, 1), port: 0, output: b)   // silenced
        try inhibited.receive(host("b", 95, 2), port: 0, output: b)   // other host: sent
        try inhibitor.receive(host("a", 10, 3), port: 0, output: a)   // host=a recovers
        try inhibited.receive(host("a", 96, 4), port: 0, output: b)   // sent again
        b.stopAndDrain(inhibited)
        #expect(b.alerts.count == 3)  // every event is still published
        let sent = recorder.bodies.map { String(decoding: $0, as: UTF8.self) }
        #expect(sent.count == 2)
        #expect(sent.first?.contains("\"time\":\"1970-01-01T00:00:02Z\"") == true)
        #expect(sent.last?.contains("\"time\":\"1970-01-01T00:00:04Z\"") == true)
        _ = inhibitor.stop(output: a)
        #expect(!lookup.isInhibited(category: "system", tags: ["host": "a"]))
    }

    @Test func augmentationAddsLevelIdMessageAndDuration() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(crit: F.above(80))
            $0.levelTag = "level"
            $0.idTag = "alertID"
            $0.levelField = "levelF"
            $0.idField = "idF"
            $0.messageField = "msg"
            $0.durationField = "dur"
        })
        let out = try F.run(node, [90, 91])
        guard case .point(let p) = out.emitted[1] else { Issue.record("expected a point"); return }
        #expect(p.tags == ["level": "CRITICAL", "alertID": "cpu:nil"])
        #expect(p.fields["levelF"] == .string("CRITICAL"))
        #expect(p.fields["idF"] == .string("cpu:nil"))
        #expect(p.fields["msg"] == .string("cpu:nil is CRITICAL"))
        #expect(p.fields["dur"] == .int(1_000_000_000))
        #expect(p.fields["value"] == .double(91))
        // The event's data is the point before augmentation.
        #expect(!out.alerts[1].contains("levelF"))
    }
}
