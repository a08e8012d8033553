import Foundation
import Testing
import UDFKit

/// The swift-mirror executable built next to the test bundle (`swift build --build-tests` builds it).
func swiftMirrorURL() throws -> URL {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let url = exe.deletingLastPathComponent().appendingPathComponent("swift-mirror")
    try #require(FileManager.default.isExecutableFile(atPath: url.path), "build swift-mirror first: \(url.path)")
    return url
}

/// Runs swift-mirror with `arguments`, feeding it `input` and returning its decoded responses.
func runMirror(_ arguments: [String], input: [UInt8]) throws -> (responses: [Agent_Response], status: Int32) {
    let process = Process()
    process.executableURL = try swiftMirrorURL()
    process.arguments = arguments
    let stdin = Pipe(), stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    // Write from another thread so a full stdout pipe cannot deadlock the test.
    let writer = stdin.fileHandleForWriting
    let data = Data(input)
    Thread.detachNewThread {
        writer.write(data)
        try? writer.close()
    }
    // A mirror that hangs is killed after a minute, so the test fails instead of hanging the suite.
    let killer = DispatchWorkItem { if process.isRunning { process.interrupt(); kill(process.processIdentifier, SIGKILL) } }
    DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: killer)
    defer { killer.cancel() }
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (try responses(Array(output)), process.terminationStatus)
}

@Suite("swift-mirror sample UDF")
struct SwiftMirrorTests {
    @Test("STREAM mode: info says stream→stream and every point comes back unchanged")
    func stream() throws {
        var point = Agent_Point()
        point.name = "cpu"
        point.time = 42
        point.tags = ["host": "a"]
        point.fieldsDouble = ["usage": 0.5]
        point.dimensions = ["host"]
        point.group = "host=a"
        let pointRequest = Requests.frame { $0.point = point }
        let input = Requests.info + Requests.initialize(ok: true)
            + Array([[UInt8]](repeating: pointRequest, count: 5000).joined())
        let (r, status) = try runMirror([], input: input)
        #expect(status == 0)
        try #require(r.count == 5002)
        #expect(r[0].info.wants == .stream && r[0].info.provides == .stream)
        #expect(r[1].init_p.success)
        #expect(r[2...].allSatisfy { $0.point == point })
    }

    @Test("BATCH mode: begin, points and end come back unchanged")
    func batch() throws {
        var begin = Agent_BeginBatch()
        begin.name = "cpu"
        begin.size = 1
        var end = Agent_EndBatch()
        end.name = "cpu"
        end.tmax = 99
        let input = Requests.info + Requests.frame { $0.begin = begin } + Requests.point("p")
            + Requests.frame { $0.end = end }
        let (r, status) = try runMirror(["--batch"], input: input)
        #expect(status == 0)
        try #require(r.count == 4)
        #expect(r[0].info.wants == .batch && r[0].info.provides == .batch)
        #expect(r[1].begin == begin)
        #expect(r[2].point.name == "p")
        #expect(r[3].end == end)
    }

    @Test("an unknown argument is a usage error")
    func usage() throws {
        let (r, status) = try runMirror(["--bogus"], input: [])
        #expect(status == 2)
        #expect(r.isEmpty)
    }
}
