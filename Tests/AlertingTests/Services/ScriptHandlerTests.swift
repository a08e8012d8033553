import HTTPTesting
import Engine
import Foundation
import Testing
import TockModel
@testable import Alerting

/// TICKscripts whose alert nodes name these services reach a loopback receiver through the engine, and a script
/// naming a disabled service fails at define time.
@Suite("Chat and paging services from TICKscripts")
struct ScriptHandlerTests {
    static let script = """
        stream
            |from().measurement('alert')
            |alert()
                .id('id').message('message').details('details')
                .crit(lambda: "value" > 0)
                .slack().channel('#test')
                .pagerDuty2().routingKey('rkey').link('http://example.com')
        """

    @Test("a CRITICAL point and its recovery reach Slack and PagerDuty v2 with Kapacitor's bodies")
    func criticalThenRecovery() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = ServicesAdapter([
            "slack": try SlackService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/slack")]]),
            "pagerduty2": try PagerDuty2Service(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/pd2")]]),
        ])
        var options = TaskRunner.Options(taskID: "testAlertHandlers")
        options.alertService = service
        let runner = try TaskRunner(script: Self.script, options: options, handlers: .init())
        try runner.start()
        runner.write([Point(name: "alert", fields: ["value": .double(1)], time: 0)])
        runner.write([Point(name: "alert", fields: ["value": .double(0)], time: 1_000_000_000)])
        try runner.stop()

        let requests = try await receiver.waitForRequests(4)
        let slack = requests.filter { $0.path == "/slack" }.map(\.text)
        let pd2 = requests.filter { $0.path == "/pd2" }.map(\.text)
        #expect(slack == [
            ##"{"as_user":false,"attachments":[{"fallback":"message","color":"danger","text":"message","mrkdwn_in":["text"]}],"channel":"#test","icon_emoji":"","text":"","username":"kapacitor"}"## + "\n",
            ##"{"as_user":false,"attachments":[{"fallback":"message","color":"good","text":"message","mrkdwn_in":["text"]}],"channel":"#test","icon_emoji":"","text":"","username":"kapacitor"}"## + "\n",
        ])
        #expect(pd2 == [
            #"{"routing_key":"rkey","event_action":"trigger","dedup_key":"id","payload":{"summary":"message","source":"unknown","severity":"critical","timestamp":"1970-01-01T00:00:00.000000000Z","class":"testAlertHandlers","component":"","group":"","custom_details":{"result":\#(Events.result)}},"images":null,"links":[{"href":"http://example.com","text":"http://example.com"}],"client":"kapacitor","client_url":"http://localhost:9092/kapacitor/v1"}"# + "\n",
            #"{"routing_key":"rkey","dedup_key":"id","event_action":"resolve"}"# + "\n",
        ])
        #expect(service.failures.isEmpty)
    }

    @Test("a script naming a disabled service is refused when it is defined, naming the section")
    func disabledAtDefineTime() throws {
        var options = TaskRunner.Options(taskID: "t")
        options.alertService = ServicesAdapter(["slack": try SlackService(elements: []),
                                                "pagerduty2": try PagerDuty2Service(elements: [])])
        #expect { try TaskRunner(script: Self.script, options: options, handlers: .init()) } throws: { error in
            String(describing: error).contains("[slack] is not enabled")
        }
    }
}

/// The smallest `AlertService` over these service kinds: one sender per handler, events delivered in order, one
/// attempt each (the real alerting service adds queues and retries).
final class ServicesAdapter: AlertService, @unchecked Sendable {
    let kinds: [String: any AlertServiceKind]
    private let lock = NSLock()
    private var failed: [DeliveryFailure] = []

    init(_ kinds: [String: any AlertServiceKind]) { self.kinds = kinds }

    var failures: [DeliveryFailure] {
        lock.lock()
        defer { lock.unlock() }
        return failed
    }

    func sender(_ handler: AlertHandlerSpec) throws -> any AlertSender {
        guard let kind = kinds[handler.kind] else { throw HandlerOptionError("no \(handler.kind) service in this test") }
        return try kind.makeSender(options: handler.options)
    }

    func check(_ handler: AlertHandlerSpec) throws { _ = try sender(handler) }

    func open(_ node: AlertNodeContext, handlers: [AlertHandlerSpec]) throws -> any AlertSink {
        Sink(senders: try handlers.map(sender), owner: self)
    }

    fileprivate func record(_ failure: DeliveryFailure) {
        lock.lock()
        failed.append(failure)
        lock.unlock()
    }

    private final class Sink: AlertSink, @unchecked Sendable {
        let senders: [any AlertSender]
        let owner: ServicesAdapter
        private let lock = NSLock()
        private var last: Task<Void, Never>?

        init(senders: [any AlertSender], owner: ServicesAdapter) {
            self.senders = senders
            self.owner = owner
        }

        func collect(_ event: AlertEvent, inhibited: Bool) {
            guard !inhibited else { return }
            lock.lock()
            defer { lock.unlock() }
            let previous = last
            let senders = self.senders
            let owner = self.owner
            last = Task {
                await previous?.value
                for sender in senders {
                    do throws(DeliveryFailure) { try await sender.send(event) } catch { owner.record(error) }
                }
            }
        }

        func drain(_ done: @escaping @Sendable () -> Void) {
            lock.lock()
            let pending = last
            lock.unlock()
            Task {
                await pending?.value
                done()
            }
        }

        func close() {}
    }
}
