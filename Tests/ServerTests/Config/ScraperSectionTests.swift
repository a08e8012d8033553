import Collectors
import TockModel
@testable import Server
import Testing

@Suite("[[scraper]] with [[static-discovery]] and [[file-discovery]], as kapacitor.conf writes them")
struct ScraperSectionTests {
    @Test("an enabled scraper paired with its static discoverer is a scraper collector on its interval, into its db.rp, without a host tag")
    func staticDiscovery() throws {
        var config = ServerConfiguration()
        try config.apply(toml: """
            [[scraper]]
              enabled = true
              name = "node"
              discoverer-id = "nodes"
              discoverer-service = "static-discovery"
              db = "prometheus_raw"
              rp = "autogen"
              type = "prometheus"
              scheme = "http"
              metrics-path = "/metrics"
              scrape-interval = "15s"
              scrape-timeout = "5s"
              blacklist = ["127.0.0.1:9101"]
            [[scraper]]
              enabled = false
              name = "off"
            [[static-discovery]]
              enabled = true
              id = "nodes"
              targets = ["127.0.0.1:9100", "127.0.0.1:9101"]
              [static-discovery.labels]
                region = "us-west"
            """, file: "kapacitor.conf")
        #expect(config.unusedSections.isEmpty)
        #expect(config.scrapers.count == 1)
        let scraper = try #require(config.scrapers.first)
        #expect(scraper.name == "scraper")
        #expect(scraper.interval == .seconds(15))
        #expect(scraper.database == "prometheus_raw" && scraper.retentionPolicy == "autogen")
        #expect(!scraper.hostTagged)
        let points = scraper.finish([Point(name: "up", tags: Tags(["instance": "a"]), fields: Fields([("value", .double(1))]), time: 1)],
                                    hostTags: ["host": "box"])
        #expect(points.first?.tags.dictionary == ["instance": "a"])
        #expect(points.first?.database == "prometheus_raw")
        #expect(throws: Never.self) { try KapacitorScraperCollector(options: scraper.options) }
    }

    @Test("a scraper without db, or naming a discoverer that is not there or not built, is refused with the file and line")
    func refused() {
        func refusal(_ text: String) -> String? {
            var config = ServerConfiguration()
            do { try config.apply(toml: text, file: "k.conf") } catch { return error.description }
            return nil
        }
        #expect(refusal("\n[[scraper]]\n  enabled = true\n  name = \"x\"\n") == "k.conf:2: [[scraper]]: scraper config must be given a db")
        #expect(refusal("[[scraper]]\n  enabled = true\n  name = \"x\"\n  db = \"d\"\n  rp = \"r\"\n  discoverer-service = \"static-discovery\"\n  discoverer-id = \"gone\"\n") == "k.conf:1: [[scraper]]: no enabled [[static-discovery]] with id \"gone\"")
        #expect(refusal("[[scraper]]\n  enabled = true\n  name = \"x\"\n  db = \"d\"\n  rp = \"r\"\n  discoverer-service = \"consul\"\n") == "k.conf:1: [[scraper]]: discoverer-service \"consul\" is not built in Tock (static-discovery and file-discovery are)")
        #expect(refusal("[[scraper]]\n  scrape_interval = \"1s\"\n") == "k.conf:1: [[scraper]]: unknown key \"scrape_interval\"")
    }

    @Test("file discovery passes its files and refresh interval to the scraper")
    func fileDiscovery() throws {
        var config = ServerConfiguration()
        try config.apply(toml: """
            [[scraper]]
              enabled = true
              name = "sd"
              db = "p"
              rp = "autogen"
              discoverer-id = "f"
              discoverer-service = "file-discovery"
            [[file-discovery]]
              enabled = true
              id = "f"
              refresh-interval = "1m"
              files = ["/etc/prometheus/targets/*.json"]
            """)
        let scraper = try #require(config.scrapers.first)
        #expect(scraper.interval == .seconds(60))
        #expect(throws: Never.self) { try KapacitorScraperCollector(options: scraper.options) }
    }
}
