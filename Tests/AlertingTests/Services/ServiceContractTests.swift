import HTTPTesting
import Engine
import Testing
@testable import Alerting
import TockModel

/// What every chat and paging service of Kapacitor does alike: refuse options it does not take, refuse to be used
/// while disabled, and let the receiver's answer decide whether a failed delivery is worth another attempt.
@Suite("Chat and paging services: the common contract")
struct ServiceContractTests {
    @Test("each service is registered under its Kapacitor kind and section",
          arguments: Configured.kinds)
    func registered(kind: String) {
        let type = AlertServiceRegistry.kinds.first { $0.kind == kind }
        #expect(type != nil)
        #expect(type?.section.name == kind)
    }

    @Test("an option the service does not take is refused at define time, naming the option", arguments: Configured.kinds)
    func unknownOption(kind: String) throws {
        let service = try Configured.service(kind, url: "http://127.0.0.1:9")
        do {
            _ = try service.makeSender(options: ["chanel": .string("#typo")])
            Issue.record("\(kind) accepted an unknown option")
        } catch {
            #expect(error.option == "chanel")
            #expect(error.message.hasPrefix("\(kind) has no option chanel"))
        }
    }

    @Test("a disabled section is refused at define time, naming the section", arguments: Configured.kinds)
    func disabled(kind: String) throws {
        let service = try Configured.service(kind, url: "http://127.0.0.1:9", enabled: false)
        do {
            _ = try service.makeSender(options: [:])
            Issue.record("\(kind) made a sender while disabled")
        } catch {
            #expect(error.message.contains("[\(kind)]") || error.message.contains("[[\(kind)]]"))
            #expect(error.message.contains("is not enabled"))
        }
    }

    @Test("a section with no configuration is Kapacitor's default: present, disabled", arguments: Configured.kinds)
    func absentSection(kind: String) throws {
        let type = try #require(AlertServiceRegistry.kinds.first { $0.kind == kind })
        let service = try type.init(elements: [])
        #expect(service.elements.count == 1)
        #expect(service.elements.first?["enabled"] == .bool(false))
        #expect(throws: HandlerOptionError.self) { try service.makeSender(options: [:]) }
    }

    @Test("a key the section does not have is refused, naming it", arguments: Configured.kinds)
    func unknownConfigKey(kind: String) throws {
        let type = try #require(AlertServiceRegistry.kinds.first { $0.kind == kind })
        #expect { try type.init(elements: [["enabled": .bool(false), "chanel": .string("x")]]) } throws: { error in
            (error as? ConfigError)?.message.contains("unknown setting chanel") == true
        }
    }

    @Test("a 5xx answer is retryable and a 4xx permanent, with the receiver's answer in the reason", arguments: Configured.kinds)
    func classification(kind: String) async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let sender = try Configured.service(kind, url: receiver.url).makeSender(options: [:])

        receiver.answer(status: 503, body: "overloaded")
        do {
            try await sender.send(Events.critical)
            Issue.record("\(kind): a 503 was taken as delivered")
        } catch {
            #expect(error.isRetryable)
            #expect(error.reason.contains("503") && error.reason.contains("overloaded"))
            #expect(error.reason.hasPrefix(kind))
        }

        receiver.answer(status: 400, body: "bad event")
        do {
            try await sender.send(Events.critical)
            Issue.record("\(kind): a 400 was taken as delivered")
        } catch {
            #expect(!error.isRetryable)
            #expect(error.reason.contains("400") && error.reason.contains("bad event"))
        }
        #expect(receiver.requests.count == 2)
    }

    @Test("a receiver that is not listening is retryable")
    func refused() async throws {
        let receiver = try await HTTPReceiver.start()
        let url = receiver.url
        receiver.stop()
        try await Task.sleep(for: .milliseconds(50))
        let sender = try Configured.service("teams", url: url).makeSender(options: [:])
        await #expect { try await sender.send(Events.critical) } throws: { error in
            (error as? DeliveryFailure)?.isRetryable == true
        }
    }
}
