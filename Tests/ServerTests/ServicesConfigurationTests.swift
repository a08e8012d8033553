@testable import Server
import Testing

@Suite("Configuration: the [stats] and [load] sections")
struct ServicesConfigurationTests {
    @Test("defaults are Kapacitor's: stats on every 10s into _kapacitor.autogen, load off in /etc/kapacitor/load")
    func defaults() {
        let config = ServerConfiguration()
        #expect(config.stats.enabled)
        #expect(config.stats.interval == 10_000_000_000)
        #expect(config.stats.database == "_kapacitor")
        #expect(config.stats.retentionPolicy == "autogen")
        #expect(config.stats.timingSampleRate == 0.10)
        #expect(config.stats.timingMovingAverageSize == 1000)
        #expect(!config.load.enabled)
        #expect(config.load.directory == "/etc/kapacitor/load")
    }

    @Test("every key from the file, then TOCK_STATS_* and TOCK_LOAD_* overrides")
    func fileThenEnvironment() throws {
        var config = ServerConfiguration()
        try config.apply(toml: """
            [stats]
              enabled = false
              stats-interval = "1m"
              database = "_tock"
              retention-policy = "week"
              timing-sample-rate = 0.5
              timing-movavg-size = 10
            [load]
              enabled = true
              dir = "/srv/load"
            """)
        #expect(!config.stats.enabled)
        #expect(config.stats.interval == 60_000_000_000)
        #expect(config.stats.database == "_tock")
        #expect(config.stats.retentionPolicy == "week")
        #expect(config.stats.timingSampleRate == 0.5)
        #expect(config.stats.timingMovingAverageSize == 10)
        #expect(config.load.enabled)
        #expect(config.load.directory == "/srv/load")
        #expect(config.unusedSections.isEmpty)
        try config.apply(environment: ["TOCK_STATS_STATS_INTERVAL": "5s", "TOCK_STATS_ENABLED": "true", "TOCK_LOAD_DIR": "/tmp/l"])
        #expect(config.stats.interval == 5_000_000_000)
        #expect(config.stats.enabled)
        #expect(config.load.directory == "/tmp/l")
    }

    @Test("bad values name the file, the section and the key", arguments: [
        ("[stats]\nstats-interval = \"soon\"", "conf [stats]: stats-interval must be a positive duration"),
        ("[stats]\nstats-interval = \"0s\"", "conf [stats]: stats-interval must be a positive duration"),
        ("[stats]\ntiming-sample-rate = 2.0", "conf [stats]: timing-sample-rate must be a number from 0 to 1"),
        ("[stats]\ntiming-movavg-size = 0", "conf [stats]: timing-movavg-size must be a positive integer"),
        ("[stats]\ndatabase = \"\"", "conf [stats]: database must not be empty"),
        ("[stats]\nenabled = \"maybe\"", "conf [stats]: enabled must be true or false"),
        ("[stats]\nintervall = \"10s\"", "conf [stats]: unknown setting stats.intervall"),
        ("[load]\nenabled = 1", "conf [load]: enabled must be true or false"),
        ("[load]\ndirectory = \"/x\"", "conf [load]: unknown setting load.directory"),
    ])
    func errors(toml: String, message: String) {
        var config = ServerConfiguration()
        #expect {
            try config.apply(toml: toml, file: "conf")
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }

    @Test("`tock config` documents both sections, and its text reads back as the defaults")
    func printed() throws {
        #expect(ServerConfiguration.defaultText.contains("[stats]\n  # Write the daemon's statistics"))
        #expect(ServerConfiguration.defaultText.contains("[load]\n"))
        var config = ServerConfiguration()
        try config.apply(toml: ServerConfiguration.defaultText)
        #expect(config == ServerConfiguration())
    }
}
