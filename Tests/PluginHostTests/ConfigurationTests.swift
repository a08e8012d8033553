import Foundation
import PluginHost
import Testing
import TockModel

@Suite("kapacitor.conf [udf.functions] parsing")
struct ConfigurationTests {
    @Test("a process UDF as in Kapacitor's anomaly-detection guide")
    func processUDF() throws {
        let config = try UDFConfiguration.parse("""
        hostname = "localhost"
        [http]
          bind-address = ":9092"
        [udf]
        [udf.functions]
          [udf.functions.tTest]
            prog = "/usr/bin/python3"
            args = ["-u", "/tmp/kapacitor_udf/ttest.py"]
            timeout = "10s"
            [udf.functions.tTest.env]
              PYTHONPATH = "/tmp/kapacitor_udf/kapacitor/udf/agent/py"
        """)
        let tTest = try #require(config.functions["tTest"])
        #expect(tTest.endpoint == .process(program: "/usr/bin/python3", arguments: ["-u", "/tmp/kapacitor_udf/ttest.py"],
                                           environment: ["PYTHONPATH": "/tmp/kapacitor_udf/kapacitor/udf/agent/py"]))
        #expect(tTest.timeout == 10 * GoDuration.second)
        #expect(tTest.restart == .restart)
        #expect(tTest.restartMaxBackoff == 10 * GoDuration.second)
        #expect(tTest.line == 6)
        #expect(config.snapshotInterval == GoDuration.minute)
        #expect(config.warnings.isEmpty)
    }

    @Test("a socket UDF and Tock's extra keys")
    func socketUDF() throws {
        let config = try UDFConfiguration.parse("""
        [task]
          snapshot-interval = "30s"
        [udf.functions.mirror]
          socket = "/tmp/mirror.sock"
          timeout = "1m30s"
          restart = "stop"
          restart-max-backoff = "2s"
          max-frame-size = 4096
        """)
        let mirror = try #require(config.functions["mirror"])
        #expect(mirror.endpoint == .socket(path: "/tmp/mirror.sock"))
        #expect(mirror.timeout == 90 * GoDuration.second)
        #expect(mirror.restart == .stop)
        #expect(mirror.restartMaxBackoff == 2 * GoDuration.second)
        #expect(mirror.maxFrameSize == 4096)
        #expect(config.snapshotInterval == 30 * GoDuration.second)
    }

    @Test("socket together with prog is refused, naming the UDF and its line")
    func socketAndProcess() {
        #expect {
            try UDFConfiguration.parse("""
            # comment
            [udf.functions.both]
              socket = "/tmp/x.sock"
              prog = "/bin/cat"
              timeout = "10s"
            """, file: "kapacitor.conf")
        } throws: { error in
            String(describing: error) == "kapacitor.conf:2: UDF both: both socket and process config provided"
        }
    }

    @Test("timeout must be more than 1ms, as Kapacitor validates")
    func timeoutTooSmall() {
        for (value, shown) in [("1ms", "1ms"), ("0s", "0s")] {
            #expect {
                try UDFConfiguration.parse("[udf.functions.f]\nprog = \"/bin/cat\"\ntimeout = \"\(value)\"\n", file: "k.conf")
            } throws: { error in
                String(describing: error) == "k.conf:1: UDF f: timeout is too small: \(shown) (must be more than 1ms)"
            }
        }
        #expect(throws: ConfigDiagnostic.self) {
            try UDFConfiguration.parse("[udf.functions.f]\nprog = \"/bin/cat\"\n")
        }
    }

    @Test("a value of the wrong type names the key and its line")
    func wrongTypes() {
        #expect {
            try UDFConfiguration.parse("""
            [udf.functions.f]
              prog = "/bin/cat"

              args = "-u"
              timeout = "10s"
            """, file: "k.conf")
        } throws: { error in
            String(describing: error) == "k.conf:4: udf.functions.f.args must be an array of strings, not a string"
        }
        #expect {
            try UDFConfiguration.parse("[udf.functions.f]\nprog = \"/bin/cat\"\ntimeout = 10\n", file: "k.conf")
        } throws: { error in
            String(describing: error) == "k.conf:3: udf.functions.f.timeout must be a string, not a integer"
        }
        #expect {
            try UDFConfiguration.parse("[udf.functions.f]\nprog = \"/bin/cat\"\ntimeout = \"ten\"\n", file: "k.conf")
        } throws: { error in
            String(describing: error).hasPrefix("k.conf:3: udf.functions.f.timeout: invalid duration \"ten\"")
        }
        #expect {
            try UDFConfiguration.parse("[udf.functions.f]\nprog = \"/bin/cat\"\ntimeout = \"1s\"\nrestart = \"always\"\n",
                                       file: "k.conf")
        } throws: { error in
            String(describing: error) == "k.conf:4: UDF f: restart must be \"stop\" or \"restart\", not \"always\""
        }
    }

    @Test("a TOML syntax error reports line and column")
    func syntaxError() {
        #expect {
            try UDFConfiguration.parse("[udf.functions.f]\nprog = \"/bin/cat\ntimeout = \"1s\"\n", file: "k.conf")
        } throws: { error in
            guard let d = error as? ConfigDiagnostic else { return false }
            return d.line == 2 && d.column != nil && d.file == "k.conf"
        }
    }

    @Test("unknown keys are warnings, not errors; other sections are ignored")
    func unknownKeys() throws {
        let config = try UDFConfiguration.parse("""
        [[influxdb]]
          name = "default"
        [udf]
          colour = "blue"
        [udf.functions.f]
          prog = "/bin/cat"
          timeout = "10s"
          retries = 3
        """, file: "k.conf")
        #expect(config.functions.keys.sorted() == ["f"])
        #expect(config.warnings.map(\.description) == [
            "k.conf:4: unknown key udf.colour (ignored)",
            "k.conf:8: unknown key udf.functions.f.retries (ignored)",
        ])
    }

    @Test("neither prog nor socket")
    func neither() {
        #expect {
            try UDFConfiguration.parse("[udf.functions.f]\ntimeout = \"10s\"\n", file: "k.conf")
        } throws: { error in
            String(describing: error) == "k.conf:1: UDF f: must set either prog or socket"
        }
    }

    @Test("load(path:) reads a file and names it in errors")
    func loadFile() throws {
        let path = temporaryPath("conf")
        try "[udf.functions.f]\nprog = \"/bin/cat\"\ntimeout = \"10s\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try UDFConfiguration.load(path: path)
        #expect(config.functions["f"]?.endpoint == .process(program: "/bin/cat", arguments: [], environment: [:]))
        #expect { try UDFConfiguration.load(path: path + ".missing") } throws: { error in
            String(describing: error).hasPrefix(path + ".missing: cannot read the configuration")
        }
    }

    @Test("${TOCK_CONFIG_DIR} in prog, args and env is the configuration file's directory, whatever the current directory")
    func configDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-config-dir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/conf", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            [udf.functions.f]
              prog = "${TOCK_CONFIG_DIR}/bin/udf"
              args = ["-u", "${TOCK_CONFIG_DIR}/../f.py", "${OTHER}"]
              timeout = "10s"
              [udf.functions.f.env]
                PYTHONPATH = "${TOCK_CONFIG_DIR}/../lib"
            [notifiers.n]
              prog = "python3"
              args = ["${TOCK_CONFIG_DIR}/n.py"]
            """.write(toFile: dir + "/conf/tock.conf", atomically: true, encoding: .utf8)
        let config = try UDFConfiguration.load(path: dir + "/conf/tock.conf")
        #expect(config.functions["f"]?.endpoint == .process(
            program: dir + "/conf/bin/udf", arguments: ["-u", dir + "/conf/../f.py", "${OTHER}"],
            environment: ["PYTHONPATH": dir + "/conf/../lib"]))
        #expect(config.notifiers["n"]?.endpoint == .process(program: "python3", arguments: [dir + "/conf/n.py"], environment: [:]))
        // Parsed text has no file: the current directory stands in.
        let parsed = try UDFConfiguration.parse("[udf.functions.f]\nprog = \"${TOCK_CONFIG_DIR}/x\"\ntimeout = \"10s\"\n")
        #expect(parsed.functions["f"]?.endpoint == .process(program: FileManager.default.currentDirectoryPath + "/x",
                                                            arguments: [], environment: [:]))
    }
}
