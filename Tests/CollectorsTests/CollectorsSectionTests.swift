import Foundation
import Glibc
import Testing
import TockModel
@testable import Collectors

@Suite("[[collectors.NAME]] sections: a probe's own timeout, the gather's bound, ${TOCK_CONFIG_DIR}")
struct CollectorsSectionTests {
    func sections(_ text: String, file: String = "/etc/tock/agent.conf") throws -> [CollectorConfig] {
        try CollectorsSection.parse(text, file: file)
    }

    func section(_ name: String, in configs: [CollectorConfig]) throws -> CollectorConfig {
        try #require(configs.first { $0.name == name })
    }

    @Test("timeout in a probe's section is the probe's own option (a duration or seconds); the gather's bound is derived from it")
    func probeTimeout() throws {
        let configs = try sections("""
            [[collectors.net_response]]
              address = "127.0.0.1:9"
              timeout = "3s"
              read_timeout = "2s"

            [[collectors.dns_query]]
              servers = ["127.0.0.1"]
              timeout = 10

            [[collectors.ping]]
              urls = ["127.0.0.1"]
              timeout = 1.5
              deadline = "4s"

            [[collectors.x509_cert]]
              sources = ["https://127.0.0.1:8443", "tcp://127.0.0.1:993", "/etc/ssl/certs/*.pem"]
              timeout = "2s"

            [[collectors.exec]]
              commands = ["true"]
              timeout = "8s"
            """)
        let net = try section("net_response", in: configs)
        #expect(net.timeout == .seconds(6), "connect 3s + read 2s + the margin")
        let netProbe = try NetResponseCollector(options: net.options)
        #expect(netProbe.timeout == 3 * GoDuration.second && netProbe.readTimeout == 2 * GoDuration.second)

        let dns = try section("dns_query", in: configs)
        #expect(try DNSQueryCollector(options: dns.options).timeout == 10 * GoDuration.second, "a number is seconds, as older Telegrafs wrote it")
        #expect(dns.timeout == .seconds(11))

        let ping = try section("ping", in: configs)
        #expect(try PingCollector(options: ping.options).timeout == 1_500_000_000)
        #expect(ping.timeout == .seconds(5), "deadline 4s + 1s")

        let x509 = try section("x509_cert", in: configs)
        #expect(try X509CertCollector(options: x509.options).timeout == 2 * GoDuration.second)
        #expect(x509.timeout == .seconds(5), "two network sources read in turn: 2 × 2s + 1s")

        let exec = try section("exec", in: configs)
        #expect(try ExecCollector(options: exec.options).timeout == 8 * GoDuration.second)
        #expect(exec.timeout == .seconds(9))
    }

    @Test("the derived bound is never under the default 5s; gather-timeout sets it; timeout stays the bound of collectors without such an option")
    func explicitBound() throws {
        let configs = try sections("""
            [[collectors.net_response]]
              address = "127.0.0.1:9"

            [[collectors.dns_query]]
              servers = ["127.0.0.1"]
              timeout = "20s"
              gather-timeout = "3s"

            [[collectors.cpu]]
              timeout = "7s"

            [[collectors.mem]]
              gather-timeout = "2s"
              timeout = "9s"

            [[collectors.http_response]]
              urls = ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b", "http://127.0.0.1:1/c"]
              response_timeout = "4s"
            """)
        #expect(try section("net_response", in: configs).timeout == CollectorConfig.defaultTimeout, "1s + 1s + 1s is under 5s")
        let dns = try section("dns_query", in: configs)
        #expect(dns.timeout == .seconds(3))
        #expect(try DNSQueryCollector(options: dns.options).timeout == 20 * GoDuration.second)
        #expect(try section("cpu", in: configs).timeout == .seconds(7))
        #expect(try section("mem", in: configs).timeout == .seconds(2))
        #expect(try section("http_response", in: configs).timeout == .seconds(13), "three URLs in turn, 4s each, + 1s")
    }

    @Test("a probe's bad timeout, a refused json_query and a zero gather-timeout are refused with the file and the section's line")
    func badProbeTimeout() throws {
        let text = "[[collectors.cpu]]\n\n[[collectors.net_response]]\n  address = \"127.0.0.1:9\"\n  timeout = \"soon\"\n"
        #expect {
            try sections(text, file: "agent.conf")
        } throws: { error in
            let message = (error as? CollectorSectionError)?.description ?? ""
            return message.hasPrefix("agent.conf:3: [[collectors.net_response]]: option \"timeout\" must be a duration")
        }
        #expect {
            try sections("[[collectors.exec]]\n  commands = [\"true\"]\n  data_format = \"json\"\n  json_query = \"items.@keys\"\n",
                         file: "agent.conf")
        } throws: { error in
            let message = (error as? CollectorSectionError)?.description ?? ""
            return message.hasPrefix("agent.conf:1: [[collectors.exec]]: json_query \"items.@keys\": the GJSON modifier @keys is not supported")
        }
        #expect {
            try sections("[[collectors.ping]]\n  urls = [\"127.0.0.1\"]\n  gather-timeout = \"0s\"\n", file: "agent.conf")
        } throws: { ($0 as? CollectorSectionError)?.description == "agent.conf:1: [[collectors.ping]]: gather-timeout must be more than 0" }
    }

    @Test("a probe reports its own timeout within the derived bound: a silent DNS server gives result=timeout after the probe's timeout")
    func probeTimesOutFirst() throws {
        let server = TinyDNSServer()
        defer { server.stop() }
        let config = try #require(try sections("""
            [[collectors.dns_query]]
              servers = ["127.0.0.1"]
              port = \(server.port)
              domains = ["silent.test"]
              record_type = "A"
              timeout = "400ms"
            """).first)
        guard case .polled(var collector) = try CollectorRegistry.instance(for: config) else { Issue.record("dns_query is polled"); return }
        let started = ContinuousClock.now
        let points = try collector.gather(GatherContext(time: 1, timeout: config.timeout))
        let elapsed = ContinuousClock.now - started
        #expect(points.first?.tags["result"] == "timeout")
        #expect(elapsed >= .milliseconds(350) && elapsed < .milliseconds(1500), "the probe's 400ms, not Telegraf's default 2s nor the gather's bound \(config.timeout)")
    }

    @Test("${TOCK_CONFIG_DIR} in options, prog, args and env is the configuration file's directory")
    func configDirectory() throws {
        let configs = try sections("""
            [[collectors.x509_cert]]
              sources = ["${TOCK_CONFIG_DIR}/certs/*.pem"]
              tls_ca = "${TOCK_CONFIG_DIR}/ca.pem"

            [[collectors.file_age]]
              prog = "${TOCK_CONFIG_DIR}/plugins/file_age"
              args = ["--root", "${TOCK_CONFIG_DIR}/data"]
              env = { PYTHONPATH = "${TOCK_CONFIG_DIR}/lib" }
              paths = ["${TOCK_CONFIG_DIR}/backups"]
            """, file: "/srv/tock/agent.conf")
        let x509 = try X509CertCollector(options: try section("x509_cert", in: configs).options)
        #expect(x509.sources.map(\.source) == [.files("/srv/tock/certs/*.pem")])
        #expect(x509.caFile == "/srv/tock/ca.pem")
        let plugin = try #require(try section("file_age", in: configs).plugin)
        #expect(plugin.program == "/srv/tock/plugins/file_age")
        #expect(plugin.arguments == ["--root", "/srv/tock/data"])
        #expect(plugin.environment["PYTHONPATH"] == "/srv/tock/lib")
        #expect(plugin.options["paths"] == .list([.string("/srv/tock/backups")]))
        // A relative file is taken from the current directory.
        let relative = try sections("[[collectors.exec]]\n  commands = [\"${TOCK_CONFIG_DIR}/probe.sh\"]\n", file: "conf/agent.conf")
        let exec = try ExecCollector(options: try section("exec", in: relative).options)
        #expect(exec.commands == [[FileManager.default.currentDirectoryPath + "/conf/probe.sh"]])
    }

    @Test("an exec command named by ${TOCK_CONFIG_DIR} runs from any current directory")
    func configDirectoryRuns() throws {
        let directory = NSTemporaryDirectory() + "tock-confdir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "#!/bin/sh\necho 'beside_config value=1i'\n".write(toFile: directory + "/probe.sh", atomically: true, encoding: .utf8)
        chmod(directory + "/probe.sh", 0o755)
        let config = try #require(try sections("[[collectors.exec]]\n  commands = [\"${TOCK_CONFIG_DIR}/probe.sh\"]\n",
                                               file: directory + "/tock.conf").first)
        guard case .polled(var collector) = try CollectorRegistry.instance(for: config) else { Issue.record("exec is polled"); return }
        let points = try collector.gather(GatherContext(time: 1, timeout: config.timeout))
        #expect(points.map(\.name) == ["beside_config"])
    }
}
