@testable import Server
import Testing

@Suite("Configuration: kapacitor.conf shape and TOCK_ overrides")
struct ConfigurationTests {
    @Test("the default configuration printed by `tock config` reads back as the defaults")
    func defaultsRoundTrip() throws {
        var config = ServerConfiguration()
        try config.apply(toml: ServerConfiguration.defaultText)
        #expect(config == ServerConfiguration())
        #expect(try config.bind == ("0.0.0.0", 9092))
    }

    @Test("file settings, then environment overrides")
    func fileThenEnvironment() throws {
        var config = ServerConfiguration()
        try config.apply(toml: """
            hostname = "box"
            data_dir = "/tmp/tock"
            [http]
              bind-address = "127.0.0.1:9999"
              max-body-size = 100
            [logging]
              level = "debug"
            [[influxdb]]
              name = "default"
            """)
        try config.apply(environment: ["TOCK_HTTP_BIND_ADDRESS": "127.0.0.1:0", "TOCK_DATA_DIR": "/var/tock", "HOME": "/x"])
        #expect(config.hostname == "box")
        #expect(config.dataDirectory == "/var/tock")
        #expect(config.maxBodySize == 100)
        #expect(config.logLevel == "DEBUG")
        #expect(try config.bind == ("127.0.0.1", 0))
        #expect(config.resolvedStoragePath == "/var/tock/tock.db")
        #expect(config.unusedSections == ["influxdb"])
    }

    @Test("an unknown setting or a bad value is an error naming it")
    func errors() {
        var config = ServerConfiguration()
        #expect(throws: ConfigurationError.self) { try config.apply(toml: "[http]\nbind-adress = \":1\"") }
        #expect(throws: ConfigurationError.self) { try config.apply(environment: ["TOCK_HTTP_LOG_ENABLED": "maybe"]) }
    }
}
