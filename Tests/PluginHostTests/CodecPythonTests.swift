import Foundation
import PluginHost
import Testing
import TockModel
import UDFProtocol

/// The repository's root, from this file's path.
private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("UDF codec with Kapacitor's Python agent")
struct CodecPythonTests {
    @Test("points encoded by the codec come back from the Python mirror UDF unchanged")
    func pythonMirror() throws {
        var g = SeededGenerator(seed: 77)
        let points = (0..<300).map { _ in RandomModel.point(&g) }
        var input: [UInt8] = []
        try UDFCodec.appendRequest(UDFCodec.initRequest(options: [], taskID: "t", nodeID: "mirror1"), to: &input)
        for p in points { UDFCodec.appendPointRequest(p, to: &input) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", repositoryRoot.appendingPathComponent("SampleUDFs/mirror.py").path]
        var env = ProcessInfo.processInfo.environment
        env["PYTHONPATH"] = repositoryRoot.appendingPathComponent("Protocol/python").path
        process.environment = env
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let writer = stdin.fileHandleForWriting
        let data = Data(input)
        Thread.detachNewThread {
            writer.write(data)
            try? writer.close()
        }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(errors)")

        var decoder = FrameDecoder()
        decoder.append(output)
        var responses: [UDFResponse] = []
        while let frame = try decoder.nextFrame() { responses.append(try UDFCodec.decodeResponse(frame)) }
        try decoder.finish()
        try #require(responses.count == points.count + 1, "\(errors)")
        if case .other(let r) = responses[0] { #expect(r.init_p.success) } else { Issue.record("expected InitResponse") }
        for (response, point) in zip(responses.dropFirst(), points) {
            #expect(response == .point(point))
        }
    }
}
