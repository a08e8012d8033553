import Logging
import Testing
@testable import Collectors

@Suite("Telegraf-style log lines (tock agent, tock collect)")
struct TelegrafLogHandlerTests {
    @Test("a line is the level's letter, the collector in brackets, the message, then the other metadata sorted")
    func line() {
        let line = TelegrafLogHandler.line(.error, "cannot read /proc/stat", [
            "collector": "cpu", "url": "http://127.0.0.1:1/", "attempt": "2",
        ])
        #expect(line == "E! [collectors.cpu] cannot read /proc/stat attempt=2 url=http://127.0.0.1:1/")
    }

    @Test("swift-log's seven levels map onto Telegraf's four letters; plugin and stderr metadata are not repeated")
    func levels() {
        let letters = [Logger.Level.trace, .debug, .info, .notice, .warning, .error, .critical]
            .map { TelegrafLogHandler.line($0, "m", ["plugin": "p", "stderr": "s"]) }
        #expect(letters == ["D! m", "D! m", "I! m", "I! m", "W! m", "E! m", "E! m"])
    }
}
