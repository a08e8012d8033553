import InfluxDB
@testable import Server
import Testing

@Suite("Configuration: [[influxdb]] and [[udp]]")
struct InfluxDBSectionsTests {
    @Test("[[influxdb]] sections are read in order, with their subscription tables")
    func influxDBSections() throws {
        var config = ServerConfiguration()
        try config.apply(toml: """
            [[influxdb]]
              enabled = true
              name = "east"
              default = true
              urls = ["http://127.0.0.1:8086", "http://127.0.0.1:8087"]
              username = "tock"
              timeout = "5s"
              subscription-protocol = "udp"
              udp-bind = "127.0.0.1:0"
              subscriptions-sync-interval = "10s"
              http-port = 9092
              [influxdb.subscriptions]
                telegraf = ["autogen", "week"]
              [influxdb.excluded-subscriptions]
                _internal = ["monitor"]
            [[influxdb]]
              enabled = false
              name = "west"
              urls = ["http://127.0.0.1:9086"]
            """, file: "tock.conf")
        #expect(config.influxDB.count == 2)
        let east = try #require(config.influxDB.first)
        #expect(east.name == "east" && east.isDefault && east.enabled)
        #expect(east.urls == ["http://127.0.0.1:8086", "http://127.0.0.1:8087"])
        #expect(east.username == "tock" && east.timeout == 5_000_000_000)
        #expect(east.subscriptionProtocol == "udp" && east.udpBind == "127.0.0.1:0")
        #expect(east.subscriptionsSyncInterval == 10_000_000_000 && east.httpPort == 9092)
        #expect(east.subscriptions == ["telegraf": ["autogen", "week"]])
        #expect(east.excludedSubscriptions == ["_internal": ["monitor"]])
        #expect(config.influxDB[1].name == "west" && !config.influxDB[1].enabled)
        #expect(config.unusedSections.isEmpty)
    }

    @Test("a bad [[influxdb]] value names the file, the section and the key")
    func influxDBErrors() {
        var config = ServerConfiguration()
        let protocolError = #expect(throws: ConfigurationError.self) {
            try config.apply(toml: "[[influxdb]]\n  name = \"a\"\n[[influxdb]]\n  subscription-protocol = \"tcp\"\n", file: "tock.conf")
        }
        #expect(protocolError?.description
            == "tock.conf [[influxdb]] #2: subscription-protocol: invalid subscription protocol, must be one of 'udp', 'http' or 'https', got tcp")
        let mapError = #expect(throws: ConfigurationError.self) {
            try config.apply(toml: "[[influxdb]]\n  subscriptions = \"db\"\n", file: "tock.conf")
        }
        #expect(mapError?.description.hasPrefix("tock.conf [[influxdb]] #1: subscriptions: must be a table") == true)
        let notArray = #expect(throws: ConfigurationError.self) { try config.apply(toml: "[influxdb]\n  name = \"a\"\n", file: "tock.conf") }
        #expect(notArray?.description.contains("[[influxdb]]") == true)
    }

    @Test("TOCK_INFLUXDB_<N>_<KEY> sets section N, or adds the next one")
    func environment() throws {
        var config = ServerConfiguration()
        try config.apply(toml: "[[influxdb]]\n  name = \"a\"\n  urls = [\"http://127.0.0.1:1\"]\n")
        try config.apply(environment: [
            "TOCK_INFLUXDB_0_URLS": "http://127.0.0.1:2, http://127.0.0.1:3",
            "TOCK_INFLUXDB_0_SUBSCRIPTIONS_SYNC_INTERVAL": "5s",
            "TOCK_INFLUXDB_1_NAME": "b",
            "TOCK_UDP_0_BIND_ADDRESS": "127.0.0.1:0",
        ])
        #expect(config.influxDB.map(\.name) == ["a", "b"])
        #expect(config.influxDB[0].urls == ["http://127.0.0.1:2", "http://127.0.0.1:3"])
        #expect(config.influxDB[0].subscriptionsSyncInterval == 5_000_000_000)
        #expect(config.udp.map(\.bindAddress) == ["127.0.0.1:0"])
        let gap = #expect(throws: ConfigurationError.self) { try config.apply(environment: ["TOCK_INFLUXDB_5_NAME": "c"]) }
        #expect(gap?.description == "TOCK_INFLUXDB_5_NAME: there are 2 [[influxdb]] sections; the next is number 2")
    }

    @Test("[[udp]] sections: InfluxDB's keys and defaults; bad values named")
    func udpSections() throws {
        #expect(UDPConfiguration().database == "udp" && UDPConfiguration().batchSize == 5000 && UDPConfiguration().batchPending == 10)
        var config = ServerConfiguration()
        try config.apply(toml: """
            [[udp]]
              enabled = true
              bind-address = "127.0.0.1:8089"
              database = "metrics"
              retention-policy = "week"
              precision = "s"
              read-buffer = 1048576
              batch-size = 100
              batch-pending = 4
              batch-timeout = "200ms"
            """)
        let udp = try #require(config.udp.first)
        #expect(udp.enabled && udp.bindAddress == "127.0.0.1:8089" && udp.database == "metrics" && udp.retentionPolicy == "week")
        #expect(udp.precision == "s" && udp.readBuffer == 1_048_576)
        #expect(udp.batchSize == 100 && udp.batchPending == 4 && udp.batchTimeout == 200_000_000)
        let bad = #expect(throws: ConfigurationError.self) { try config.apply(toml: "[[udp]]\n  precision = \"days\"\n", file: "tock.conf") }
        #expect(bad?.description == "tock.conf [[udp]] #1: precision: must be n, u, ms, s, m or h, got \"days\"")
        let bind = #expect(throws: ConfigurationError.self) { try config.apply(toml: "[[udp]]\n  bind-address = \"8089\"\n", file: "tock.conf") }
        #expect(bind?.description == "tock.conf [[udp]] #1: bind-address: must be host:port, got \"8089\"")
    }

    @Test("`tock config` shows a commented [[influxdb]] and [[udp]] that read back as the defaults")
    func defaultText() throws {
        #expect(ServerConfiguration.defaultText.contains("# [[influxdb]]"))
        #expect(ServerConfiguration.defaultText.contains("# [[udp]]"))
        var config = ServerConfiguration()
        try config.apply(toml: ServerConfiguration.defaultText)
        #expect(config.influxDB.isEmpty && config.udp.isEmpty)
        let lines = ServerConfiguration.defaultText.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("# [[influxdb]]") })
        let block = lines[start...].prefix { !$0.isEmpty }.map { $0.dropFirst(2) }
        let uncommented = block.joined(separator: "\n")
        var example = ServerConfiguration()
        try example.apply(toml: String(uncommented))
        #expect(example.influxDB.count == 1)
        #expect(example.influxDB.first == {
            var c = InfluxDBConfiguration(name: "localhost", urls: ["http://localhost:8086"])
            c.isDefault = true
            return c
        }())
    }
}
