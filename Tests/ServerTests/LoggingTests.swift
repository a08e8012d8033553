import Foundation
import Logging
@testable import Server
import Testing
import TockModel

@Suite("The daemon's log through swift-log")
struct LoggingTests {
    /// A log file in a fresh temporary path, and a way to read what was written to it.
    struct LogFile {
        let path = NSTemporaryDirectory() + "tock-log-\(UUID().uuidString).log"
        func output(level: String = "INFO", format: String = "logfmt") throws -> LogOutput {
            try LogOutput(destination: path, level: level, format: format)
        }
        var lines: [String] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("a logger's metadata and the line's become logfmt fields in key order, quoted when they need it")
    func logfmtFields() throws {
        let file = LogFile()
        defer { file.remove() }
        var log = try file.output().logger()
        log[metadataKey: "task"] = "cpu"
        log.info("started", metadata: ["node": "alert2", "err": "a \"b\""])
        let line = try #require(file.lines.first)
        #expect(line.hasPrefix("ts="))
        #expect(line.split(separator: " ", maxSplits: 1).last == #"lvl=info msg=started err="a \"b\"" node=alert2 task=cpu"#)
    }

    @Test("Tock's four level names: notice is info, warning warn, critical error; trace is below debug")
    func levelNames() throws {
        let file = LogFile()
        defer { file.remove() }
        let log = try file.output(level: "DEBUG").logger()
        log.trace("t")
        log.debug("d")
        log.notice("n")
        log.warning("w")
        log.critical("c")
        #expect(file.lines.map { $0.split(separator: " ").dropFirst().joined(separator: " ") }
                == ["lvl=debug msg=d", "lvl=info msg=n", "lvl=warn msg=w", "lvl=error msg=c"])
    }

    @Test("the output's level holds for every logger; a logger may be quieter than it, never louder")
    func levels() throws {
        let file = LogFile()
        defer { file.remove() }
        let output = try file.output(level: "WARN")
        var quiet = output.logger()
        quiet.logLevel = .error
        let plain = output.logger()
        plain.info("dropped: below the output's level")
        quiet.warning("dropped: below the logger's own level")
        plain.warning("kept")
        quiet.debug("dropped too")
        output.level = .debug
        plain.debug("kept after the output's level changed")
        quiet.warning("still dropped")
        #expect(file.lines.map { $0.contains("msg=kept") || $0.contains("msg=\"kept after") } == [true, true])
    }

    @Test("a follower gets the lines whose fields match, in its own format")
    func followers() async throws {
        let file = LogFile()
        defer { file.remove() }
        let output = try file.output()
        let lines = output.follow(match: ["task": "cpu"], json: true)
        var log = output.logger()
        log[metadataKey: "task"] = "other"
        log.info("not this one")
        log.info("this one", metadata: ["task": "cpu"])
        var iterator = lines.makeAsyncIterator()
        let line = try #require(await iterator.next())
        let object = try JSON.parse(Array(line.utf8))
        #expect(object["msg"] == .string("this one"))
        #expect(object["task"] == .string("cpu"))
    }

    @Test("[logging] level words and the engine's levels map to swift-log's")
    func levelMapping() {
        #expect(["debug", "INFO", "Warn", "WARNING", "error", "bogus"].map(Logger.Level.init(configured:))
                == [.debug, .info, .warning, .warning, .error, .info])
        #expect(LogLevel.allCases.map(Logger.Level.init) == [.debug, .info, .warning, .error])
    }

    @Test("one table: a configured word parses as the engine's level, and every engine level survives the round trip")
    func oneTable() {
        for word in ["debug", "INFO", "Warn", "WARNING", "error"] {
            #expect(Logger.Level(configured: word) == Logger.Level(LogLevel(configured: word)!))
        }
        #expect(LogLevel(configured: "bogus") == nil)
        #expect(LogLevel.allCases.map { LogLevel(Logger.Level($0)) } == LogLevel.allCases)
        #expect([Logger.Level.trace, .notice, .critical].map(LogLevel.init) == [.debug, .info, .error])
    }
}
