import Alerting
import Engine
import Foundation
@testable import Server
import Testing
import TOMLKit

@Suite("Configuration: [alerting] and the alert services' sections")
struct AlertingSectionsTests {
    @Test("[alerting] is read into the delivery settings, and `tock config` prints its defaults")
    func alerting() throws {
        var config = ServerConfiguration()
        try config.apply(toml: """
            [alerting]
              queue-size = 50
              timeout = "5s"
              retry-max-attempts = 3
              retry-initial-backoff = "250ms"
              retry-max-backoff = "10s"
            """, file: "tock.conf")
        let service = try config.makeAlertingService()
        #expect(service.delivery == DeliverySettings(queueSize: 50, timeout: .seconds(5), retryMaxAttempts: 3,
                                                     retryInitialBackoff: .milliseconds(250), retryMaxBackoff: .seconds(10)))
        var printed = ServerConfiguration()
        try printed.apply(toml: ServerConfiguration.defaultText)
        #expect(try printed.makeAlertingService().delivery == DeliverySettings())
    }

    @Test("an unknown [alerting] setting is refused with the file")
    func unknownSetting() {
        var config = ServerConfiguration()
        #expect(refusal {
            try config.apply(toml: "[alerting]\nqueue-lenght = 5\n", file: "tock.conf")
        } == "tock.conf: [alerting] unknown setting queue-lenght (known: dead-letter-max, drain-timeout, queue-size, rate-limit, rate-limits, retry-initial-backoff, retry-max-attempts, retry-max-backoff, timeout)")
    }

    @Test("rate-limit, [alerting.rate-limits], dead-letter-max and drain-timeout are read from the file and the environment")
    func rateLimitsAndDeadLetters() throws {
        var config = ServerConfiguration()
        try config.apply(toml: """
            [alerting]
              rate-limit = "20/1m"
              dead-letter-max = 50
              drain-timeout = "2s"
              [alerting.rate-limits]
                slack = "10/1m"
            """, file: "tock.conf")
        var delivery = try config.makeAlertingService().delivery
        #expect(delivery.rateLimit(forKind: "slack") == RateLimit(events: 10, per: .seconds(60)))
        #expect(delivery.rateLimit(forKind: "tcp") == RateLimit(events: 20, per: .seconds(60)))
        #expect(delivery.deadLetterMax == 50 && delivery.drainTimeout == .seconds(2))
        #expect(try config.makeAlertingService().deadLetters.limit == 50)
        try config.apply(environment: ["TOCK_ALERTING_RATE_LIMIT": "5/s"])
        delivery = try config.makeAlertingService().delivery
        #expect(delivery.rateLimit(forKind: "tcp") == RateLimit(events: 5, per: .seconds(1)))
        #expect(delivery.rateLimit(forKind: "slack") == RateLimit(events: 10, per: .seconds(60)), "the kind's own limit still wins")
        #expect(refusal {
            try config.apply(toml: "[alerting]\nrate-limit = \"many\"\n", file: "tock.conf")
        } == "tock.conf: [alerting] rate-limit = \"many\": expected EVENTS/DURATION such as \"20/1m\"")
    }

    @Test("TOCK_ALERTING_<KEY> and KAPACITOR_ALERTING_<KEY> override the file")
    func environment() throws {
        var config = ServerConfiguration()
        try config.apply(toml: "[alerting]\nqueue-size = 5\n", file: "tock.conf")
        try config.apply(environment: ["TOCK_ALERTING_QUEUE_SIZE": "7", "KAPACITOR_ALERTING_RETRY_MAX_BACKOFF": "3s"])
        let delivery = try config.makeAlertingService().delivery
        #expect(delivery.queueSize == 7 && delivery.retryMaxBackoff == .seconds(3))
        #expect(refusal {
            try config.apply(environment: ["TOCK_ALERTING_TIMEOUT": "soon"])
        } == "TOCK_ALERTING_TIMEOUT: [alerting] timeout: invalid duration \"soon\"")
    }

    @Test("a service section's TOML becomes the tables the service reads: every element, typed values, nested tables")
    func serviceSections() throws {
        var config = ServerConfiguration()
        let toml = try TOMLTable(string: """
            [[example]]
              workspace = "ops"
              enabled = true
              timeout = "10s"
              port = 25
              ratio = 0.5
              to = ["a@example.com", "b@example.com"]
              [example.headers]
                X-Team = "sre"
            [[example]]
              workspace = "dev"
            """)
        try config.applyAlertSection("example", toml["example"]!, file: "tock.conf")
        #expect(config.alertSections["example"] == [
            ["workspace": .string("ops"), "enabled": .bool(true), "timeout": .string("10s"), "port": .int(25), "ratio": .float(0.5),
             "to": .array([.string("a@example.com"), .string("b@example.com")]), "headers": .table(["X-Team": .string("sre")])],
            ["workspace": .string("dev")],
        ])
        // No registered service reads [example]: the alerting service refuses it, naming the file.
        #expect(refusal {
            var named = config
            named.file = "tock.conf"
            _ = try named.makeAlertingService()
        } == "tock.conf: [example] is not the section of any alert service Tock has")
    }

    /// What `body` throws, as text; `nil` when it succeeds.
    func refusal(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }
}
