import Foundation
import Testing

/// A newcomer's first hour: `tock` on PATH, run from a directory that is not the repository.
@Suite(.serialized) struct FirstHourSpecification {
    /// A fresh directory with `bin/` (for PATH) and `work/` (the current directory).
    struct Sandbox {
        let base: String
        var bin: String { base + "/bin" }
        var work: String { base + "/work" }

        init() throws {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("tock-first-hour-\(UUID().uuidString)").path
            for dir in [base + "/bin", base + "/work"] {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
        }

        /// `tock` placed in `bin/`: a copy, or a symlink to the built binary.
        func install(symlink: Bool) throws {
            if symlink {
                try FileManager.default.createSymbolicLink(atPath: bin + "/tock", withDestinationPath: TockBinary.path)
            } else {
                try FileManager.default.copyItem(atPath: TockBinary.path, toPath: bin + "/tock")
            }
        }

        /// Runs `command` with `sh -c` in `work/` with `bin/` first on PATH, so `tock` is found by its bare name.
        func shell(_ command: String, timeout: Double = 600) throws -> TockBinary.Result {
            let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            return try TockBinary.runProgram("/bin/sh", ["-c", command], environment: ["PATH": path], timeout: timeout,
                                             directory: work)
        }

        func remove() { try? FileManager.default.removeItem(atPath: base) }
    }

    @Test func theDemoRunsWithTockSymlinkedOnPATHFromAnotherDirectory() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.install(symlink: true)
        let demo = try sandbox.shell("tock demo printer")
        #expect(demo.status == 0, "stderr:\n\(demo.stderr)")
        #expect(demo.stderr.contains("sample UDFs: \(TockBinary.root)/SampleUDFs"))
        #expect(demo.stdout.contains("hotend"))
        #expect(!demo.stderr.contains("cannot find"))
    }

    @Test func aCopiedTockWritesThePrinterDayFromTheRepositoryItWasBuiltFrom() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.install(symlink: false)
        let write = try sandbox.shell("tock demo printer --write-data day.lp")
        #expect(write.status == 0, "stderr:\n\(write.stderr)")
        #expect(write.stderr.contains("sample UDFs: \(TockBinary.root)/SampleUDFs"))
        #expect(write.stderr.contains("86402 points"))
        let day = try String(contentsOfFile: sandbox.work + "/day.lp", encoding: .utf8)
        #expect(day.split(separator: "\n").count == 86_402)
        #expect(day.hasPrefix("temperatures hotend="))
    }

    @Test func anInstalledShareDirectoryIsFoundBesideTheBinary() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.install(symlink: false)
        let share = sandbox.base + "/share/tock/SampleUDFs"
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        for file in ["ttest.py", "printer_data.py"] {
            try FileManager.default.copyItem(atPath: TockBinary.root + "/SampleUDFs/" + file, toPath: share + "/" + file)
        }
        let write = try sandbox.shell("tock demo printer --write-data - --seed 7 | head -n 2")
        #expect(write.status == 0, "stderr:\n\(write.stderr)")
        #expect(write.stderr.contains("sample UDFs: \(share)"), "stderr:\n\(write.stderr)")
        #expect(write.stdout.split(separator: "\n").count == 2)
    }

    @Test func aRootWithoutTheSamplesIsRefusedNamingWhereTockLooked() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.install(symlink: true)
        let run = try sandbox.shell("tock demo printer --root \(sandbox.work)")
        #expect(run.status != 0)
        #expect(run.stderr.contains("cannot find SampleUDFs/ttest.py; looked in:"))
        #expect(run.stderr.contains("\(sandbox.work)  (--root)"))
    }

    @Test func theREADMEPrinterCommandsRunAsWrittenFromAnotherDirectory() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.install(symlink: true)
        let repo = TockBinary.root
        // `tock test` of the printer task: its tock.conf names the UDF relative to itself.
        let test = try sandbox.shell("tock test \(repo)/SampleUDFs/printer/print_temps.test.yaml")
        #expect(test.status == 0, "stdout:\n\(test.stdout)\nstderr:\n\(test.stderr)")
        #expect(test.stdout.contains("PASS"))
        // `tock run` over an excerpt of the day, with the README's config, from the sandbox.
        let run = try sandbox.shell("""
            mkdir -p /tmp/tock_udf && gunzip -c \(repo)/SampleUDFs/printer/print_temps_excerpt.lp.gz > day.lp && \
            tock run \(repo)/SampleUDFs/printer/print_temps.tick --input day.lp --precision s \
            --config \(repo)/SampleUDFs/printer/tock.conf
            """)
        #expect(run.status == 0, "stderr:\n\(run.stderr)")
        #expect(run.stdout.contains("\"id\":\"hotend\""))
        #expect(!run.stderr.contains("dead letter"))
    }

    @Test func alertHandlerFailuresMakeRunExitNonZeroUnlessKeepGoing() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.install(symlink: true)
        let script = try file("unwritable.tick", """
            stream
                |from()
                    .measurement('m')
                |alert()
                    .crit(lambda: "v" > 0)
                    .log('\(sandbox.base)/no-such-directory/alerts.log')
            """, in: sandbox.work)
        _ = try file("data.lp", "m v=1 1\nm v=2 2\n", in: sandbox.work)
        let failing = try sandbox.shell("tock run \(script) --input data.lp --precision s")
        #expect(failing.status == 1, "stderr:\n\(failing.stderr)")
        #expect(failing.stderr.contains("dead letter"))
        #expect(failing.stderr.contains("--keep-going"))
        let kept = try sandbox.shell("tock run \(script) --input data.lp --precision s --keep-going")
        #expect(kept.status == 0, "stderr:\n\(kept.stderr)")
        #expect(kept.stderr.contains("dead letter"))
    }
}
