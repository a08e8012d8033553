import Foundation
import Testing

@Suite("tock collect: the built-in collectors from the command line, like telegraf --test")
struct CollectCommandTests {
    @Test("--once prints Telegraf-named line protocol with a host tag, cpu usage from two readings")
    func once() throws {
        let result = try TockBinary.run(["collect", "--once", "cpu", "mem", "system", "--sample-wait", "300ms"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("cpu,cpu=cpu-total,host=") && $0.contains("usage_idle=") })
        #expect(lines.contains { $0.hasPrefix("mem,host=") && $0.contains("used_percent=") && $0.contains("total=") })
        #expect(lines.contains { $0.hasPrefix("system,host=") && $0.contains("load1=") && $0.contains("n_cpus=") })
        #expect(lines.contains { $0.hasPrefix("system,host=") && $0.contains("uptime=") })
        #expect(!lines.contains { $0.hasPrefix("swap") })
    }

    @Test("a collector config's tags and options apply; an unknown option is refused with file and line")
    func config() throws {
        let dir = NSTemporaryDirectory() + "tock-collect-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/good.conf"
        try """
            [[collectors.cpu]]
              percpu = false
              tags = { dc = "par1" }

            [[collectors.mem]]
            """.write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try TockBinary.run(["collect", "--once", "--config", good, "--sample-wait", "200ms"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let lines = ok.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("cpu,cpu=cpu-total,dc=par1,host=") })
        #expect(!lines.contains { $0.hasPrefix("cpu,cpu=cpu0") })
        #expect(lines.contains { $0.hasPrefix("mem,host=") })

        let bad = dir + "/bad.conf"
        try "[[collectors.mem]]\n\n[[collectors.cpu]]\n  per_cpu = false\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try TockBinary.run(["collect", "--once", "--config", bad])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("\(bad):3: [[collectors.cpu]]: unknown option \"per_cpu\""), "\(refused.stderr)")

        let unknown = try TockBinary.run(["collect", "--once", "cpuu"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown collector \"cpuu\""), "\(unknown.stderr)")
    }

    @Test("--once runs a collector plugin from the config (prog), after its handshake")
    func plugin() throws {
        let dir = NSTemporaryDirectory() + "tock-collect-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/plugin.conf"
        try """
            [[collectors.faulty]]
              prog = "python3"
              args = ["\(TockBinary.root)/Tests/Fixtures/collectors/fault_collector.py"]
              env = { TOCK_PYTHON_SDK = "\(TockBinary.root)/Protocol/python" }
              label = "cli"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try TockBinary.run(["collect", "--once", "--config", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").contains { $0.hasPrefix("faulty,host=") && $0.contains("plugin=cli") && $0.contains("gather=1i") },
                "\(result.stdout)\(result.stderr)")
    }
}
