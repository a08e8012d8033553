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
            [[consul]]
              name = "default"
            """)
        try config.apply(environment: ["TOCK_HTTP_BIND_ADDRESS": "127.0.0.1:0", "TOCK_DATA_DIR": "/var/tock", "HOME": "/x"])
        #expect(config.hostname == "box")
        #expect(config.dataDirectory == "/var/tock")
        #expect(config.maxBodySize == 100)
        #expect(config.logLevel == "DEBUG")
        #expect(try config.bind == ("127.0.0.1", 0))
        #expect(config.resolvedStoragePath == "/var/tock/tock.db")
        #expect(config.unusedSections == ["consul"])
    }

    @Test("[http] read-timeout: a Go duration (30s by default), from the file or TOCK_HTTP_READ_TIMEOUT; 0 turns it off")
    func readTimeout() throws {
        #expect(ServerConfiguration().readTimeout == 30_000_000_000)
        var config = ServerConfiguration()
        try config.apply(toml: "[http]\n  read-timeout = \"1m30s\"\n")
        #expect(config.readTimeout == 90_000_000_000)
        try config.apply(environment: ["TOCK_HTTP_READ_TIMEOUT": "250ms"])
        #expect(config.readTimeout == 250_000_000)
        try config.apply(environment: ["TOCK_HTTP_READ_TIMEOUT": "0"])
        #expect(config.readTimeout == 0)
        #expect(throws: ConfigurationError.self) { try config.apply(toml: "[http]\n  read-timeout = \"soon\"\n") }
        #expect(throws: ConfigurationError.self) { try config.apply(toml: "[http]\n  read-timeout = \"-1s\"\n") }
    }

    @Test("an unknown setting or a bad value is an error naming it")
    func errors() {
        var config = ServerConfiguration()
        let unknown = #expect(throws: ConfigurationError.self) { try config.apply(toml: "[http]\nbind-adress = \":1\"") }
        #expect(unknown?.description.contains("unknown setting http.bind-adress") == true, "\(String(describing: unknown))")
        let bad = #expect(throws: ConfigurationError.self) { try config.apply(environment: ["TOCK_HTTP_LOG_ENABLED": "maybe"]) }
        #expect(bad?.description.contains("TOCK_HTTP_LOG_ENABLED") == true, "\(String(describing: bad))")
        #expect(bad?.description.contains("maybe") == true, "\(String(describing: bad))")
    }
}

@Suite("Configuration: security settings")
struct SecurityConfigurationTests {
    @Test("auth, https and the exec allow-list from the file and from TOCK_ variables")
    func securitySettings() throws {
        var config = ServerConfiguration()
        try config.apply(toml: """
            [http]
              auth-enabled = true
              https-enabled = true
              https-certificate = "/etc/tock/cert.pem"
              https-private-key = "/etc/tock/key.pem"
            [alert]
              exec-allowed = ["/usr/local/bin/page"]
            """)
        #expect(config.authEnabled && config.httpsEnabled)
        #expect(config.httpsCertificate == "/etc/tock/cert.pem")
        #expect(config.httpsPrivateKey == "/etc/tock/key.pem")
        #expect(config.execAllowed == ["/usr/local/bin/page"])
        try config.apply(environment: ["TOCK_ALERT_EXEC_ALLOWED": "/usr/bin/logger, /usr/local/bin/page",
                                       "TOCK_HTTP_AUTH_ENABLED": "false"])
        #expect(config.execAllowed == ["/usr/bin/logger", "/usr/local/bin/page"])
        #expect(!config.authEnabled)
        #expect(config.execPolicy.refusal(of: "/usr/bin/logger") == nil)
        #expect(config.execPolicy.refusal(of: "logger")
                == "program logger is not allowed: add its exact path to [alert] exec-allowed in the daemon's configuration (it holds /usr/bin/logger, /usr/local/bin/page)")
    }

    @Test("an exec-allowed entry must be an absolute path, in a list")
    func execAllowedErrors() {
        var config = ServerConfiguration()
        #expect(throws: ConfigurationError.self) { try config.apply(toml: "[alert]\nexec-allowed = [\"page\"]") }
        do {
            try config.apply(toml: "[alert]\nexec-allowed = \"/bin/true\"", file: "tock.conf")
            Issue.record("a string instead of a list was accepted")
        } catch {
            #expect(error.description == "tock.conf [alert]: exec-allowed must be a list of program paths, got \"/bin/true\"")
        }
    }

    @Test("the default allows no .exec() program")
    func defaultDeniesExec() {
        #expect(ServerConfiguration().execPolicy.refusal(of: "/bin/sh")
                == "program /bin/sh is not allowed: add its exact path to [alert] exec-allowed in the daemon's configuration (it is empty)")
    }
}
