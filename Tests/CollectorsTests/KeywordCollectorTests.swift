import Foundation
import Testing
import TockModel
@testable import Collectors

@Suite("keyword: counting new log lines that match, across rotation and truncation")
struct KeywordCollectorTests {
    func append(_ path: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    func counts(_ points: [Point]) -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: points.map { ($0.tags["keyword"]!, field($0, "count")?.numeric.map { Int64($0) } ?? -1) })
    }

    @Test("new lines only, partial lines wait for their newline, a rotated or truncated file is read from its start")
    func follow() throws {
        let fixture = FixtureHost()
        let path = fixture.root + "/app.log"
        try "old ERROR before we started\n".write(toFile: path, atomically: false, encoding: .utf8)
        var keyword = try KeywordCollector.make(["files": .strings([fixture.root + "/*.log"]),
                                                 "keywords": .strings(["error=ERROR|FATAL", "oom=Out of memory"])])
        #expect(counts(try keyword.gather(fixture.context())) == ["error": 0, "oom": 0])

        try append(path, "ERROR one\nok\nFATAL two\nOut of memory: Killed process 42\npartial ERR")
        let first = try keyword.gather(fixture.context())
        #expect(counts(first) == ["error": 2, "oom": 1])
        #expect(field(first[0], "lines") == .int(4))
        #expect(first[0].tags["file"] == path)

        try append(path, "OR completed\n")
        #expect(counts(try keyword.gather(fixture.context())) == ["error": 1, "oom": 0])

        // logrotate: the file moves away and a new one starts at the same path.
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try "ERROR after rotation\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(counts(try keyword.gather(fixture.context())) == ["error": 1, "oom": 0])

        // copytruncate: the same file cut to nothing, then written again.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 0)
        try handle.close()
        try append(path, "FATAL x\n")
        #expect(counts(try keyword.gather(fixture.context())) == ["error": 1, "oom": 0])
    }

    @Test("settings: files and keywords are required, a keyword is name=regex")
    func settings() {
        #expect(throws: CollectorError.self) { try KeywordCollector.make(["keywords": .strings(["e=x"])]) }
        #expect(throws: CollectorError.self) { try KeywordCollector.make(["files": .strings(["/x"])]) }
        #expect(throws: CollectorError.self) { try KeywordCollector.make(["files": .strings(["/x"]), "keywords": .strings(["noequals"])]) }
        #expect(throws: CollectorError.self) { try KeywordCollector.make(["files": .strings(["/x"]), "keywords": .strings(["e=(unclosed"])]) }
    }
}
