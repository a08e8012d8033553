import Foundation
import Testing

/// `tock run --config FILE` reads `[[httppost]]` as `tock serve` does: `httpPost().endpoint(name)` finds its endpoint
/// there, and without one the script is refused at the node's line:column.
@Suite("httpPost endpoints through tock run --config")
struct HTTPPostRunTests {
    static let script = "stream\n    |from()\n        .measurement('cpu')\n    |httpPost()\n        .endpoint('e')\n"

    @Test("without the section the endpoint is an error at 4:5; with it, a receiver that is down is an error of the node")
    func endpointFromConfig() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tick = try file("post.tick", Self.script, in: dir)
        let input = try file("in.lp", "cpu value=1 1\n", in: dir)
        let refused = try TockBinary.run(["run", tick, "--input", input])
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("4:5: httpPost2: endpoint 'e' does not exist (the configuration has no [[httppost]] sections)"),
                "\(refused.stderr)")
        // Port 1 on the loopback: nothing listens, the connection is refused at once.
        let config = try file("tock.conf", "[[httppost]]\n  endpoint = \"e\"\n  url = \"http://127.0.0.1:1/x\"\n", in: dir)
        let ran = try TockBinary.run(["run", tick, "--input", input, "--config", config])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stderr.contains("ERROR [post:httpPost2] failed to POST data to http://127.0.0.1:1/x: "), "\(ran.stderr)")
        let row = ran.stderr.split(separator: "\n").first { $0.hasPrefix("httpPost2 ") }.map(String.init) ?? ""
        #expect(row.split(separator: " ", omittingEmptySubsequences: true).prefix(4) == ["httpPost2", "1", "1", "1"], "\(row)")
    }
}
