import Alerting
import ArgumentParser
import Engine
import Foundation
import PluginHost
import PluginSupervisor
import Server

/// `tock test FILE…`: runs TICKscript test files (YAML or TOML) without a daemon and reports each case.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run TICKscript tests: feed each case's input to the task and compare what it produced with what the case expects.",
        discussion: """
            Each FILE is YAML (.yaml/.yml) or TOML (.toml); paths in it are relative to it. Every case \
            runs the task afresh, as `tock run` does, with influxDBOut writes captured (nothing is sent \
            anywhere).

              script: cpu_alert.tick    # the script file; or inline: tickscript: |
              type: stream              # stream or batch (default: the script's)
              dbrp: telegraf.autogen    # or a list (default: the script's dbrp)
              vars:                     # plain values, or Kapacitor's {type, value}
                crit: 90
                period: {type: duration, value: 5m}
              config: tock.conf         # UDFs, [[httppost]], [deadman]
              cases:
                - name: high cpu is critical
                  input:                # one of: lines, file, recording
                    precision: s        # n, u, ms, s, m, h (default n)
                    lines: |
                      cpu,host=a usage_idle=5 1451606400
                  expect:
                    tolerance: 1e-9     # absolute, for numbers (default 1e-9)
                    alerts:             # all the alerts, in order
                      - id: "cpu:host=a"
                        level: CRITICAL # OK, INFO, WARNING, CRITICAL
                        time: 2016-01-01T00:00:00Z
                        message: "is CRITICAL"   # a substring
                        tags: {host: a}
                        fields: {usage_idle: 5}  # the alert data's first row
                    alertCount: 1       # then alerts lists some, in order
                    output:             # what the leaves emit, in order
                      - node: mean2     # or one node's output
                        series:
                          - name: cpu
                            tags: {host: a}
                            columns: [time, mean]
                            values: [[2016-01-01T00:05:00Z, 12.5]]
                    httpOut:            # each endpoint's final result
                      top: {series: [...]}
                    writes:             # influxDBOut points, in order
                      - database: db
                        retentionPolicy: rp
                        measurement: m
                        tags: {host: a} # tags and fields: the whole sets
                        fields: {v: 1}
                        time: 2016-01-01T00:00:00Z

            A recording is a .srpl (its points keep their database and retention \
            policy) or, for a batch task, a .brpl whose entries feed its queries in \
            order. The config file's UDF paths are read as `tock run --config` \
            reads them (relative to the current directory).

            Lines without a timestamp are at time 0. Unknown keys are errors (FILE:LINE:COLUMN: key path: …). \
            Each case prints PASS or FAIL, a failure with each difference (missing, unexpected, or the \
            actual value and the expected one). Exit status: 0 when every case passes, 1 when one fails, 2 \
            when a file cannot be read or its task does not build.
            """)

    @Argument(help: "Test files (YAML or TOML).")
    var files: [String]

    @Flag(name: .shortAndLong, help: "Also print the warnings and errors the task logged, for every case.")
    var verbose = false

    func run() throws {
        // A case's own log lines are part of its result (``ActualsLogHandler``); anything else logs warnings to stderr.
        _ = VerbLogging.logger(label: "tock.test", level: .warning)
        Descendants.becomeSubreaper()
        defer { Descendants.terminateAll() }
        var passed = 0, failed = 0, broken = 0
        for path in files {
            print(path)
            do {
                let (p, f) = try runFile(path)
                passed += p
                failed += f
            } catch {
                broken += 1
                print("  ERROR \(error)")
            }
        }
        var summary = "\(passed) passed, \(failed) failed"
        if broken > 0 { summary += ", \(broken) file\(broken == 1 ? "" : "s") with errors" }
        print(summary)
        if broken > 0 { throw ExitCode(2) }
        if failed > 0 { throw ExitCode(1) }
    }

    private func runFile(_ path: String) throws(TestFileError) -> (passed: Int, failed: Int) {
        let file = try TockTestFile.read(path: path)
        var udfs: UDFRegistry?
        var sections = ConfigSections()
        var alerting = try? AlertingService()
        if let config = file.config {
            do {
                let server = try ServerConfiguration.load(file: config, environment: [:])
                sections = server.configSections
                alerting = try server.makeAlertingService()
                let configuration = try UDFConfiguration.load(path: config)
                udfs = UDFRegistry(configuration: configuration)
            } catch {
                throw TestFileError("\(config): \(error)")
            }
        }
        defer { udfs?.terminateAll() }
        let tapped = Set(file.cases.flatMap { $0.expect.outputs.compactMap(\.node) })
        let runner = TestCaseRun(file: file, udfs: udfs, sections: sections, alertService: alerting, tappedNodes: tapped)
        var passed = 0, failed = 0
        for testCase in file.cases {
            let actuals = try runner.run(testCase)
            let differences = TestMatcher(expect: testCase.expect).differences(actuals)
            let counts = actuals.snapshot { a in
                "\(a.pointsRead) point\(a.pointsRead == 1 ? "" : "s") in, \(a.alerts.count) alert\(a.alerts.count == 1 ? "" : "s")"
            }
            if differences.isEmpty {
                passed += 1
                print("  PASS  \(testCase.name) (\(counts))")
            } else {
                failed += 1
                print("  FAIL  \(testCase.name) (\(counts)) at \(testCase.location.file)\(testCase.location.line.map { ":\($0)" } ?? "")")
                for d in differences { print("        - \(d)") }
            }
            if verbose || !differences.isEmpty {
                for line in actuals.snapshot({ $0.errors }) { print("        log: \(line)") }
            }
        }
        if let alerting {
            for line in Run.settleDeliveries(alerting) { print("  \(line)") }
        }
        return (passed, failed)
    }
}
