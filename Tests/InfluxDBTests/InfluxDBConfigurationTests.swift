import Engine
import InfluxDB
import Testing
import TockModel

@Suite("[[influxdb]] settings")
struct InfluxDBConfigurationTests {
    @Test("defaults are Kapacitor's")
    func defaults() {
        let c = InfluxDBConfiguration()
        #expect(c.enabled)
        #expect(c.subscriptionProtocol == "http")
        #expect(c.subscriptionMode == "cluster")
        #expect(c.startupTimeout == 5 * GoDuration.minute)
        #expect(c.subscriptionsSyncInterval == GoDuration.minute)
        #expect(c.udpBuffer == 1000)
        #expect(c.excludedSubscriptions == ["_kapacitor": ["autogen"]])
        #expect(c.timeout == 0)
    }

    @Test("every key is read")
    func everyKey() throws {
        var c = InfluxDBConfiguration()
        try c.set("enabled", .text("false"))
        try c.set("name", .text("east-1"))
        try c.set("default", .text("true"))
        try c.set("urls", .list(["http://a:8086", "https://b:8086"]))
        try c.set("username", .text("u"))
        try c.set("password", .text("p"))
        try c.set("ssl-ca", .text("/ca.pem"))
        try c.set("ssl-cert", .text("/c.pem"))
        try c.set("ssl-key", .text("/k.pem"))
        try c.set("insecure-skip-verify", .text("true"))
        try c.set("timeout", .text("2s"))
        try c.set("disable-subscriptions", .text("true"))
        try c.set("subscription-protocol", .text("udp"))
        try c.set("subscription-mode", .text("server"))
        try c.set("subscription-path", .text("/tock"))
        try c.set("subscriptions", .map(["db": ["autogen", "week"]]))
        try c.set("excluded-subscriptions", .map([:]))
        try c.set("kapacitor-hostname", .text("tock.local"))
        try c.set("http-port", .text("9999"))
        try c.set("udp-bind", .text("127.0.0.1:0"))
        try c.set("udp-buffer", .text("50"))
        try c.set("udp-read-buffer", .text("65536"))
        try c.set("startup-timeout", .text("30s"))
        try c.set("subscriptions-sync-interval", .text("10s"))
        #expect(!c.enabled && c.isDefault && c.name == "east-1")
        #expect(c.urls == ["http://a:8086", "https://b:8086"])
        #expect(c.username == "u" && c.password == "p")
        #expect(c.sslCA == "/ca.pem" && c.sslCert == "/c.pem" && c.sslKey == "/k.pem" && c.insecureSkipVerify)
        #expect(c.timeout == 2 * GoDuration.second)
        #expect(c.disableSubscriptions && c.subscriptionProtocol == "udp" && c.subscriptionMode == "server")
        #expect(c.subscriptionPath == "/tock")
        #expect(c.subscriptions == ["db": ["autogen", "week"]] && c.excludedSubscriptions.isEmpty)
        #expect(c.kapacitorHostname == "tock.local" && c.httpPort == 9999)
        #expect(c.udpBind == "127.0.0.1:0" && c.udpBuffer == 50 && c.udpReadBuffer == 65536)
        #expect(c.startupTimeout == 30 * GoDuration.second && c.subscriptionsSyncInterval == 10 * GoDuration.second)
    }

    @Test("bad values name the key and the value", arguments: [
        ("subscription-protocol", "tcp", "subscription-protocol: invalid subscription protocol, must be one of 'udp', 'http' or 'https', got tcp"),
        ("subscription-mode", "all", "subscription-mode: invalid subscription mode, must be 'cluster' or 'server', got all"),
        ("timeout", "soon", "timeout: must be a duration such as \"10s\" or \"5m\", got \"soon\""),
        ("enabled", "yes", "enabled: must be true or false, got \"yes\""),
        ("http-port", "70000", "http-port: must be a whole number from -1 to 65535, got \"70000\""),
        ("colour", "red", "colour: unknown setting"),
    ])
    func badValues(key: String, value: String, message: String) {
        var c = InfluxDBConfiguration()
        let error = #expect(throws: InfluxDBConfigurationError.self) { try c.set(key, .text(value)) }
        #expect(error?.description.hasPrefix(message) == true, "\(error?.description ?? "")")
    }

    @Test("a section is checked as Kapacitor checks it: a name, a valid name, URLs")
    func validation() {
        func problem(_ c: InfluxDBConfiguration) -> String? {
            do { try c.validate(); return nil } catch { return error.description }
        }
        #expect(problem(InfluxDBConfiguration(name: "", urls: ["http://x"])) == "name: influxdb cluster must be given a name")
        #expect(problem(InfluxDBConfiguration(name: "a b", urls: ["http://x"]))?.contains("must contain only numbers, letters") == true)
        #expect(problem(InfluxDBConfiguration(name: "a", urls: [])) == "urls: must specify at least one InfluxDB URL")
        #expect(problem(InfluxDBConfiguration(name: "a", urls: ["localhost:8086"])) == "urls: \"localhost:8086\" is not an http:// or https:// URL")
        var files = InfluxDBConfiguration(name: "a", urls: ["https://x"])
        files.sslCA = "/nonexistent/ca.pem"
        #expect(problem(files) == "ssl-ca: cannot read \"/nonexistent/ca.pem\"")
        #expect(problem(InfluxDBConfiguration(name: "é.x-1_2", urls: ["http://127.0.0.1:8086"])) == nil)
    }

    @Test("clusters: disabled sections are left out, the default is the marked one or the first")
    func clusters() throws {
        var off = InfluxDBConfiguration(name: "off", urls: ["http://127.0.0.1:1"])
        off.enabled = false
        #expect(try InfluxDBClusters.make([off]) == nil)
        #expect(try InfluxDBClusters.make([]) == nil)

        let first = InfluxDBConfiguration(name: "first", urls: ["http://127.0.0.1:1"])
        var second = InfluxDBConfiguration(name: "second", urls: ["http://127.0.0.1:2"])
        #expect(try InfluxDBClusters.make([off, first, second])?.defaultCluster == "first")
        second.isDefault = true
        let clusters = try #require(try InfluxDBClusters.make([first, second]))
        #expect(clusters.defaultCluster == "second")
        #expect(clusters.hasCluster("first") && clusters.hasCluster("second") && !clusters.hasCluster("off"))

        var third = first
        third.isDefault = true
        second.isDefault = true
        let twoDefaults = #expect(throws: InfluxDBClustersError.self) { try InfluxDBClusters.make([second, third]) }
        #expect(twoDefaults?.description.contains("more than one default InfluxDB cluster") == true)
        let sameName = #expect(throws: InfluxDBClustersError.self) { try InfluxDBClusters.make([first, first]) }
        #expect(sameName?.description == "[[influxdb]] #2 (\"first\"): name: another enabled [[influxdb]] section is named \"first\"")
    }

    @Test("a cluster that is not configured is an unknown cluster, named")
    func unknownCluster() async throws {
        let clusters = try #require(try InfluxDBClusters.make([InfluxDBConfiguration(name: "only", urls: ["http://127.0.0.1:1"])]))
        let error = await #expect(throws: InfluxDBError.self) {
            _ = try await clusters.query(InfluxQuery(cluster: "other", text: "SHOW DATABASES"))
        }
        #expect(error?.kind == .unknownCluster)
        #expect(error?.message == "unknown InfluxDB cluster \"other\" (configured: only)")
    }
}
