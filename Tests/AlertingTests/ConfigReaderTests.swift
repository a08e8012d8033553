import Engine
import Testing
@testable import Alerting

@Suite("Reading service sections and handler options")
struct ConfigReaderTests {
    @Test("a section's keys are typed, defaulted, and unknown keys are refused with the known ones listed")
    func sections() throws {
        var r = ConfigReader(["enabled": .bool(true), "timeout": .string("5s"), "to": .array([.string("a@b")])], section: "smtp")
        #expect(try r.bool("enabled") == true)
        #expect(try r.duration("timeout") == 5_000_000_000)
        #expect(try r.strings("to") == ["a@b"])
        #expect(try r.int("port", default: 25) == 25)
        try r.finish()

        var bad = ConfigReader(["enabled": .string("yes"), "hots": .string("x")], section: "smtp")
        #expect(throws: ConfigError("[smtp] enabled must be true or false")) { try bad.bool("enabled") }
        _ = try bad.string("host")
        #expect(throws: ConfigError("[smtp] unknown setting hots (known: enabled, host)")) { try bad.finish() }
    }

    @Test("a handler option the service does not take is refused, naming the option")
    func options() throws {
        var r = OptionReader(["channel": .string("#ops"), "chanel": .string("#x")], kind: "slack")
        #expect(try r.string("channel") == "#ops")
        do {
            try r.finish()
            Issue.record("an unknown option was accepted")
        } catch {
            #expect(error.option == "chanel")
            #expect(error.message == "slack has no option chanel (options: channel)")
        }
    }

    @Test("URLs in errors lose their query, user info and the path after its second segment (tokens live there)")
    func redaction() {
        #expect(AlertHTTP.redacting("https://hooks.slack.com/services/T000/B000/XXXX") == "https://hooks.slack.com/services/T000/…")
        #expect(AlertHTTP.redacting("http://u:p@127.0.0.1:9/a?token=x") == "http://127.0.0.1:9/a")
    }
}
