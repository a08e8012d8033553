import Foundation
import LogTesting
import HTTPTesting
import Testing
import TockModel
@testable import Collectors

@Suite("scraper: Kapacitor's [[scraper]] with static and file discovery")
struct ScraperTests {
    static let exposition = """
        # HELP node_load1 1m load average.
        # TYPE node_load1 gauge
        node_load1 0.25
        # TYPE http_requests_total counter
        http_requests_total{code="200",job="inner"} 7
        http_requests_total{code="500"} NaN
        """

    /// An exporter on loopback serving `exposition`; its address is `host:port`, as discovery gives targets.
    static func exporter() async throws -> (receiver: HTTPReceiver, address: String) {
        let receiver = try await HTTPReceiver.start()
        receiver.answer(status: 200, body: exposition, headers: [("Content-Type", "text/plain; version=0.0.4")])
        return (receiver, String(receiver.url.dropFirst("http://".count)))
    }

    @Test("each sample is a point named by its metric with field value; labels, discovery labels, instance and __name__ are tags; NaN is left out")
    func samples() async throws {
        let (server, target) = try await Self.exporter()
        defer { server.stop() }
        var scraper = try KapacitorScraperCollector.make(["targets": .strings([target]), "labels": .strings(["region=us-west"])])
        let points = try scraper.gather(GatherContext(time: 42))
        let load = try #require(points.first { $0.name == "node_load1" })
        #expect(load.tags.dictionary == ["__name__": "node_load1", "instance": target, "region": "us-west"])
        #expect(field(load, "value") == .double(0.25))
        #expect(load.time == 42)
        let requests = points.filter { $0.name == "http_requests_total" }
        #expect(requests.count == 1)
        #expect(requests.first?.tags.dictionary == ["__name__": "http_requests_total", "code": "200", "instance": target, "region": "us-west"])
        let up = try #require(points.first { $0.name == "up" })
        #expect(field(up, "value") == .double(1))
        #expect(field(try #require(points.first { $0.name == "scrape_samples_scraped" }), "value") == .double(2))
        #expect(points.contains { $0.name == "scrape_duration_seconds" })
    }

    @Test("a target that is down reports up 0 and the others still report; a blacklisted target is not scraped")
    func downAndBlacklisted() async throws {
        let (server, target) = try await Self.exporter()
        defer { server.stop() }
        let closed = try LoopbackServer(reply: "")
        let deadPort = closed.port
        closed.stop()
        let lines = LogLines()
        var scraper = try KapacitorScraperCollector.make([
            "targets": .strings(["127.0.0.1:\(deadPort)", target, "127.0.0.1:1"]),
            "blacklist": .strings(["127.0.0.1:1"]), "timeout": .string("1s"),
        ])
        let points = try scraper.gather(GatherContext(time: 1, logger: lines.logger))
        let ups = Dictionary(uniqueKeysWithValues: points.filter { $0.name == "up" }.map { ($0.tags.dictionary["instance"]!, field($0, "value")) })
        #expect(ups == ["127.0.0.1:\(deadPort)": .double(0), target: .double(1)])
        #expect(lines.all.contains { $0.1.contains("127.0.0.1:\(deadPort)/metrics") })
    }

    @Test("file discovery reads Prometheus file_sd JSON and YAML (globs too) and picks up a changed file")
    func fileDiscovery() async throws {
        let (server, target) = try await Self.exporter()
        defer { server.stop() }
        let dir = NSTemporaryDirectory() + "tock-sd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"[{"targets": ["\#(target)"], "labels": {"team": "db"}}]"#.write(toFile: dir + "/a.json", atomically: true, encoding: .utf8)
        var scraper = try KapacitorScraperCollector.make(["files": .strings([dir + "/*.json", dir + "/b.yml"]), "refresh_interval": .string("1ns")])
        var points = try scraper.gather(GatherContext(time: 1))
        #expect(points.first { $0.name == "node_load1" }?.tags.dictionary["team"] == "db")
        try "- targets: ['\(target)']\n  labels:\n    team: web\n".write(toFile: dir + "/b.yml", atomically: true, encoding: .utf8)
        let lines = LogLines()
        points = try scraper.gather(GatherContext(time: 2, logger: lines.logger))
        #expect(lines.all.isEmpty, "\(lines.all)")
        #expect(Set(points.filter { $0.name == "node_load1" }.compactMap { $0.tags.dictionary["team"] }) == ["db", "web"])
    }

    @Test("options are checked: no targets, a bad scheme or a label without = are refused")
    func refused() {
        #expect(throws: CollectorError.self) { try KapacitorScraperCollector.make([:]) }
        #expect(throws: CollectorError.self) { try KapacitorScraperCollector.make(["targets": .strings(["a:1"]), "scheme": .string("ftp")]) }
        #expect(throws: CollectorError.self) { try KapacitorScraperCollector.make(["targets": .strings(["a:1"]), "labels": .strings(["novalue"])]) }
    }
}
