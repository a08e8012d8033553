import Engine
import Foundation
import Synchronization
import Testing
import TockModel
@testable import Alerting

@Suite("Topic handlers: defined per topic, selected by match expressions, delivered through their own queues")
struct TopicHandlerTests {
    let fast = DeliverySettings(queueSize: 100, timeout: .seconds(60), retryMaxAttempts: 2,
                                retryInitialBackoff: .milliseconds(20), retryMaxBackoff: .milliseconds(50))

    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-topic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func tagged(_ id: String, _ time: Int64, level: AlertLevel, host: String) -> AlertEvent {
        var e = event(id, time, level: level)
        e.tags = Tags(["host": host])
        e.name = "cpu"
        e.taskName = "cpu_alert"
        return e
    }

    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func refusal(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    @Test("match expressions read the event's level, change, name, task, duration and tags")
    func matching() throws {
        let subject = MatchExpression.Subject(changed: true, level: .warning, name: "cpu", taskName: "cpu_alert",
                                              duration: 90_000_000_000, tags: Tags(["host": "a"]))
        let cases: [(String, Bool)] = [
            ("changed() == TRUE", true), ("level() >= WARNING", true), ("level() == CRITICAL", false),
            ("name() == 'cpu' AND taskName() == 'cpu_alert'", true), ("duration() > 1m", true), ("duration() > 2m", false),
            ("\"host\" == 'a'", true), ("\"host\" =~ /^b/", false),
        ]
        for (text, expected) in cases {
            #expect(try MatchExpression(text).matches(subject) == expected, "\(text)")
        }
        #expect(throws: (any Error).self, "a tag the event lacks fails the evaluation") {
            try MatchExpression("\"region\" == 'eu'").matches(subject)
        }
    }

    @Test("a bad match expression is refused at define with its position")
    func badMatch() {
        #expect(refusal { _ = try MatchExpression("level() >= WARNNG") } == "invalid match expression: 1:12: unknown identifier \"WARNNG\" (a match expression knows OK, INFO, WARNING and CRITICAL)")
        #expect(refusal { _ = try MatchExpression("level(1) > 0") }?.hasPrefix("invalid match expression: 1:1: level takes no arguments") == true)
        #expect(refusal { _ = try MatchExpression("level() >") }?.hasPrefix("invalid match expression: 1:") == true)
        #expect(refusal { _ = try MatchExpression("nosuch() == 1") }?.hasPrefix("invalid match expression: 1:1:") == true)
    }

    @Test("specs are checked as Kapacitor checks them; unknown kinds and bad options are refused naming the problem")
    func definitionChecks() throws {
        let service = try AlertingService(delivery: fast, kinds: [LogService.self, ExecService.self],
                                          execPolicy: ExecPolicy(allowedPrograms: ["/bin/true"], setting: "[alert] exec-allowed"))
        #expect(refusal { try service.defineTopicHandler(TopicHandlerSpec(topic: "cpu", id: "a b", kind: "log")) }
                == "handler ID must contain only letters, numbers, '-', '.' and '_'. \"a b\"")
        #expect(refusal { try service.defineTopicHandler(TopicHandlerSpec(topic: "cpu", id: "a", kind: "")) } == "handler Kind must not be empty")
        #expect(refusal { try service.defineTopicHandler(TopicHandlerSpec(topic: "cpu", id: "a", kind: "lgo")) }
                == "unknown alert handler kind \"lgo\" (did you mean log?)")
        #expect(refusal { try service.defineTopicHandler(TopicHandlerSpec(topic: "cpu", id: "a", kind: "log", options: ["path": .string("/tmp/x.log"), "pth": .string("/x")])) }?
                    .contains("pth") == true)
        #expect(refusal { try service.defineTopicHandler(TopicHandlerSpec(topic: "cpu", id: "a", kind: "exec", options: ["prog": .string("/bin/sh")])) }?
                    .contains("/bin/sh is not allowed") == true)
        #expect(refusal { try service.defineTopicHandler(TopicHandlerSpec(topic: "cpu", id: "a", kind: "aggregate", options: ["topic": .string("x")])) }
                == "aggregate needs a positive interval (such as \"1m\")")
        #expect(refusal { try service.defineTopicHandler(TopicHandlerSpec(topic: "cpu", id: "a", kind: "publish")) }
                == "publish needs the topics to publish to (option topics)")
        #expect(service.topicRouter.allSpecs.isEmpty, "nothing refused was defined")
    }

    @Test("a topic handler gets the events its match selects, through its own queue counted in deliveryStats; a silence holds them back")
    func delivery() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try AlertingService(delivery: fast, kinds: [LogService.self])
        try service.defineTopicHandler(TopicHandlerSpec(topic: "cpu", id: "ops", kind: "log", options: ["path": .string("\(dir)/ops.log")],
                                                        match: "\"host\" == 'a' AND changed()"))
        #expect(service.topics.list().map(\.id) == ["cpu"], "a handler makes its topic exist")
        let router = service.topicRouter
        router.publish(tagged("cpu:a", 1, level: .critical, host: "a"), to: "cpu", inhibited: false)
        router.publish(tagged("cpu:a", 2, level: .critical, host: "a"), to: "cpu", inhibited: false)   // unchanged
        router.publish(tagged("cpu:b", 3, level: .critical, host: "b"), to: "cpu", inhibited: false)   // another host
        router.publish(tagged("cpu:a", 4, level: .ok, host: "a"), to: "cpu", inhibited: true)          // inhibited
        try service.silences.add(Silence(id: "quiet", topic: "cpu", start: 0, end: Int64.max, created: 0))
        router.publish(tagged("cpu:a", 5, level: .warning, host: "a"), to: "cpu", inhibited: false)    // silenced
        try await eventually("the first event delivered") { service.deliveryStats.first?.stats.sent == 1 }
        try await Task.sleep(for: .milliseconds(100))
        #expect(lines("\(dir)/ops.log").count == 1)
        #expect(service.deliveryStats.map { "\($0.task) \($0.node) \($0.stats.sent)" } == ["topic:cpu ops 1"])
        #expect(service.topics.summary(of: "cpu") == .init(id: "cpu", level: .critical, collected: 5), "every event is recorded")
        #expect(service.deleteTopicHandler(topic: "cpu", id: "ops"))
        try await eventually("its queue is gone") { service.deliveryStats.isEmpty }
    }

    @Test("publish re-publishes to other topics, and a loop stops after maxHops with an error in the log")
    func publishing() throws {
        let service = try AlertingService(delivery: fast, kinds: [LogService.self])
        let logs = LogLines()
        service.topicRouter.logger = logs.logger
        try service.defineTopicHandler(TopicHandlerSpec(topic: "a", id: "fwd", kind: "publish", options: ["topics": .strings(["b", "c"])]))
        try service.defineTopicHandler(TopicHandlerSpec(topic: "b", id: "back", kind: "publish", options: ["topics": .strings(["a"])]))
        service.topicRouter.publish(event("e", 1), to: "a", inhibited: false)
        let collected = Dictionary(uniqueKeysWithValues: service.topics.list().map { ($0.id, $0.collected) })
        #expect(collected == ["a": 5, "b": 4, "c": 4], "a → b,c → a … until \(TopicRouter.maxHops) hops")
        #expect(logs.all.count == 1)
        #expect(logs.all.first?.contains("dropped after 8 re-publications") == true)
    }

    @Test("aggregate sums up an interval's events into one event published to its topic")
    func aggregating() async throws {
        let service = try AlertingService(delivery: fast, kinds: [LogService.self])
        try service.defineTopicHandler(TopicHandlerSpec(topic: "cpu", id: "agg", kind: "aggregate", options: [
            "interval": .string("200ms"), "topic": .string("cpu_agg")]))
        service.topicRouter.publish(event("cpu:a", 1, level: .warning), to: "cpu", inhibited: false)
        service.topicRouter.publish(event("cpu:b", 2, level: .critical), to: "cpu", inhibited: false)
        try await eventually("the aggregate is published") { service.topics.event("agg", of: "cpu_agg") != nil }
        let agg = try #require(service.topics.event("agg", of: "cpu_agg"))
        #expect(agg.level == .critical)
        #expect(agg.time == 2_000_000_000)
        #expect(agg.message == "Received 2 events in the last 200ms.")
        #expect(agg.details == "cpu:a is WARNING\ncpu:b is CRITICAL")
        try await Task.sleep(for: .milliseconds(500))
        #expect(service.topics.summary(of: "cpu_agg")?.collected == 1, "an interval without events publishes nothing")
        service.shutdown()
    }

    @Test("an alert node publishes to its .topic() and, having handlers, to its anonymous topic; without handlers only to its topic")
    func routing() throws {
        let service = try AlertingService(delivery: fast, kinds: [LogService.self])
        let logs = LogLines()
        let bare = try service.open(AlertNodeContext(taskID: "t", nodeID: "alert2", topic: "cpu", logger: logs.logger), handlers: [])
        bare.collect(event("x", 1), inhibited: false)
        #expect(service.topics.list().map(\.id) == ["cpu"])
        bare.close()
    }

    @Test("a stopped node's anonymous topic is hidden with its events kept, and shown again when a node holds it again")
    func closedAnonymousTopic() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try AlertingService(delivery: fast, kinds: [LogService.self])
        let logs = LogLines()
        let context = AlertNodeContext(taskID: "t", nodeID: "alert2", topic: nil, logger: logs.logger)
        let handlers = [AlertHandlerSpec(kind: "log", options: ["path": .string("\(dir)/a.log")])]
        let first = try service.open(context, handlers: handlers)
        first.collect(event("x", 1), inhibited: false)
        let restarted = try service.open(context, handlers: handlers)   // a task restarting opens before the old node closes
        first.close()
        #expect(service.topics.list().map(\.id) == ["main:t:alert2"], "still held by the running node")
        restarted.close()
        #expect(service.topics.list().isEmpty, "the task is disabled: the topic is hidden")
        #expect(service.topics.summary(of: "main:t:alert2") == nil)
        let enabled = try service.open(context, handlers: handlers)
        #expect(service.topics.event("x", of: "main:t:alert2")?.level == .critical, "enabled again: the events are back")
        enabled.close()
        service.topics.removeAnonymous(ofTask: "t")
        #expect(service.topics.takeChanges().deleted == ["main:t:alert2"])
    }

    @Test("topic states remember their changes for the store, keep at most maxEventsPerTopic events, and forget deleted tasks' anonymous topics")
    func stateChanges() {
        let states = TopicStates()
        states.record(event("a", 1), topic: "main:t:alert2")
        states.record(event("b", 2), topic: "cpu")
        let first = states.takeChanges()
        #expect(first.saved.map(\.topic) == ["cpu", "main:t:alert2"])
        #expect(states.takeChanges().isEmpty, "nothing new")
        states.removeAnonymous(ofTask: "t")
        #expect(states.takeChanges().deleted == ["main:t:alert2"])
        #expect(states.list().map(\.id) == ["cpu"])
        for i in 0...TopicStates.maxEventsPerTopic { states.record(event("e\(i)", Int64(i) + 10), topic: "big") }
        #expect(states.events(of: "big")?.count == TopicStates.maxEventsPerTopic)
        #expect(states.event("e0", of: "big") == nil, "the oldest made room")
    }

    @Test("a topic handler's given-up events are dead letters naming the topic and the handler")
    func deadLetters() async throws {
        let office = DeadLetterOffice()
        let service = try AlertingService(delivery: fast, kinds: [TCPService.self], deadLetters: office)
        // A port nobody listens on: every attempt is refused, and after retry-max-attempts the event is given up.
        try service.defineTopicHandler(TopicHandlerSpec(topic: "cpu", id: "pager", kind: "tcp",
                                                        options: ["address": .string("127.0.0.1:1")]))
        service.topicRouter.publish(tagged("cpu:a", 1, level: .critical, host: "a"), to: "cpu", inhibited: false)
        let deadline = ContinuousClock.now + .seconds(20)
        while ((try? office.letters()) ?? []).isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let letter = try #require(try office.letters().first)
        #expect(letter.reason == .retriesExhausted)
        #expect(letter.origin.topic == "cpu")
        #expect(letter.origin.node == "topic-handler:pager")
        #expect(letter.origin.kind == "tcp")
        #expect(letter.event.id == "cpu:a")
        service.shutdown()
    }
}
