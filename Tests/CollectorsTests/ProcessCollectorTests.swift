import Foundation
import Testing
import TockModel
@testable import Collectors

@Suite("procstat and host_facts: processes found by a query, and the host's static facts")
struct ProcessCollectorTests {
    /// A process directory: stat (utime 250 and stime 50 ticks, 3 threads, started 1000 ticks after boot), status,
    /// io, comm, cmdline and two open files.
    func process(_ fixture: FixtureHost, pid: Int, comm: String, cmdline: [String], uid: Int = 1000, state: String = "S",
                 utime: Int = 250) {
        fixture.write("proc/\(pid)/stat", "\(pid) (\(comm)) \(state) 1 1 1 0 -1 0 0 0 0 0 \(utime) 50 0 0 20 5 3 0 1000 100000 200 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 7\n")
        fixture.write("proc/\(pid)/comm", comm + "\n")
        fixture.write("proc/\(pid)/cmdline", cmdline.joined(separator: "\0") + "\0")
        fixture.write("proc/\(pid)/status", "Name:\t\(comm)\nUid:\t\(uid)\t\(uid)\t\(uid)\t\(uid)\nVmSize:\t  2000 kB\nVmRSS:\t  1000 kB\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n")
        fixture.write("proc/\(pid)/io", "rchar: 1\nwchar: 2\nsyscr: 30\nsyscw: 40\nread_bytes: 4096\nwrite_bytes: 8192\n")
        fixture.write("proc/\(pid)/fd/0", "")
        fixture.write("proc/\(pid)/fd/1", "")
    }

    func host() -> FixtureHost {
        let fixture = FixtureHost()
        fixture.write("proc/stat", "cpu  1 1 1 1\ncpu0 1 1 1 1\ncpu1 1 1 1 1\nbtime 1700000000\n")
        fixture.write("proc/meminfo", "MemTotal: 100000 kB\n")
        fixture.write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnginx:x:1000:1000::/:/sbin/nologin\n")
        process(fixture, pid: 10, comm: "nginx", cmdline: ["nginx:", "master", "process", "/usr/sbin/nginx"])
        process(fixture, pid: 11, comm: "nginx", cmdline: ["nginx:", "worker", "process"])
        process(fixture, pid: 20, comm: "python3", cmdline: ["python3", "/opt/app/server.py", "--port", "80"], uid: 0)
        return fixture
    }

    @Test("pattern matches the whole command line: one procstat point per process with Telegraf's fields, then procstat_lookup")
    func pattern() throws {
        let fixture = host()
        var procstat = try ProcstatCollector.make(["pattern": .string("server\\.py")])
        let points = try procstat.gather(fixture.context(time: 10_000_000_000))
        #expect(points.map(\.name) == ["procstat", "procstat_lookup"])
        let p = points[0]
        #expect(p.tags.dictionary == ["pattern": "server\\.py", "process_name": "python3"])
        #expect(field(p, "pid") == .int(20))
        #expect(field(p, "cpu_time_user") == .double(2.5))
        #expect(field(p, "num_threads") == .int(3))
        #expect(field(p, "memory_rss") == .int(1_024_000))
        #expect(field(p, "memory_usage") == .double(1))
        #expect(field(p, "read_count") == .int(30))
        #expect(field(p, "write_bytes") == .int(8192))
        #expect(field(p, "num_fds") == .int(2))
        #expect(field(p, "voluntary_context_switches") == .int(12))
        #expect(field(p, "created_at") == .int(1_700_000_010_000_000_000))
        #expect(field(p, "cpu_usage") == nil)  // from the second gather on
        #expect(points[1].tags.dictionary == ["pattern": "server\\.py", "pid_finder": "native", "result": "success"])
        #expect(field(points[1], "pid_count") == .int(1))

        // 1 s later the process used 0.5 s more CPU.
        process(fixture, pid: 20, comm: "python3", cmdline: ["python3", "/opt/app/server.py"], uid: 0, utime: 300)
        let again = try procstat.gather(fixture.context(time: 11_000_000_000))
        #expect(field(again[0], "cpu_usage") == .double(50))
    }

    @Test("exe matches the command name, user the owner; a missing pid file is a lookup error, not a failure")
    func queries() throws {
        let fixture = host()
        var exe = try ProcstatCollector.make(["exe": .string("^nginx$")])
        #expect(try exe.gather(fixture.context()).filter { $0.name == "procstat" }.compactMap { field($0, "pid") } == [.int(10), .int(11)])
        var user = try ProcstatCollector.make(["user": .string("root")])
        #expect(try user.gather(fixture.context()).filter { $0.name == "procstat" }.count == 1)
        var pidFile = try ProcstatCollector.make(["pid_file": .string(fixture.root + "/run/none.pid")])
        let log = LogLines()
        let lookup = try pidFile.gather(fixture.context(logged: log))
        #expect(lookup.map(\.name) == ["procstat_lookup"])
        #expect(lookup[0].tags["result"] == "lookup_error")
        #expect(field(lookup[0], "result_code") == .int(1))
        #expect(log.all.contains { $0.0 == .error && $0.1.contains("cannot read a pid from") })
        fixture.write("run/app.pid", "20\n")
        var found = try ProcstatCollector.make(["pid_file": .string(fixture.root + "/run/app.pid"), "pid_tag": .bool(true)])
        let byFile = try found.gather(fixture.context())
        #expect(byFile[0].tags["pid"] == "20")
        #expect(field(byFile[0], "pid") == nil)
    }

    @Test("a pattern or exe without special characters is found by a byte search, as the regular expression would find it")
    func literalPatterns() throws {
        #expect(ProcstatCollector.literal("tock") == "tock")
        #expect(ProcstatCollector.literal("tock-agent serve") == "tock-agent serve")
        #expect(ProcstatCollector.literal("server\\.py") == nil)
        #expect(ProcstatCollector.literal("^nginx$") == nil)
        #expect(ProcstatCollector.literal("") == nil)
        #expect(ProcstatCollector.contains(Array("python3 /opt/app/server.py".utf8), Array("app/server".utf8)))
        #expect(!ProcstatCollector.contains(Array("python3".utf8), Array("python3 -u".utf8)))
        let fixture = host()
        var literal = try ProcstatCollector.make(["pattern": .string("serverpy")])
        #expect(try literal.gather(fixture.context()).filter { $0.name == "procstat" }.isEmpty)
        var words = try ProcstatCollector.make(["pattern": .string("opt/app")])
        #expect(try words.gather(fixture.context()).filter { $0.name == "procstat" }.compactMap { field($0, "pid") } == [.int(20)])
        var exe = try ProcstatCollector.make(["exe": .string("ngin")])
        #expect(try exe.gather(fixture.context()).filter { $0.name == "procstat" }.compactMap { field($0, "pid") } == [.int(10), .int(11)])
    }

    @Test("a query is required, only one, and a bad regular expression is refused at configuration")
    func settings() {
        #expect(throws: CollectorError.self) { try ProcstatCollector.make([:]) }
        #expect(throws: CollectorError.self) { try ProcstatCollector.make(["exe": .string("a"), "user": .string("b")]) }
        #expect(throws: CollectorError.self) { try ProcstatCollector.make(["pattern": .string("(unclosed")]) }
    }

    @Test("host_facts: os-release, kernel, CPU model and count, memory, machine ID and the host's own addresses")
    func facts() throws {
        let fixture = FixtureHost()
        fixture.write("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")
        fixture.write("etc/machine-id", "0123456789abcdef\n")
        fixture.write("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n")
        fixture.write("proc/cpuinfo", "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n")
        fixture.write("proc/stat", "cpu  1 1 1 1\ncpu0 1 1 1 1\ncpu1 1 1 1 1\nbtime 1700000000\n")
        fixture.write("proc/meminfo", "MemTotal: 2048 kB\n")
        fixture.write("proc/net/fib_trie", """
            Main:
              +-- 0.0.0.0/0 3 0 5
                 |-- 0.0.0.0
                    /0 universe UNICAST
                 +-- 10.0.0.0/24 2 0 2
                    |-- 10.0.0.7
                       /32 host LOCAL
                    |-- 10.0.0.255
                       /32 link BROADCAST
                 +-- 127.0.0.0/8 2 0 2
                    |-- 127.0.0.1
                       /32 host LOCAL
            Local:
              +-- 0.0.0.0/0 3 0 5
                    |-- 10.0.0.7
                       /32 host LOCAL
            """)
        fixture.write("proc/net/if_inet6", """
            20010db8000000000000000000000001 02 40 00 80     eth0
            fe800000000000000000000000000001 02 40 20 80     eth0
            00000000000000000000000000000001 01 80 10 80       lo
            """)
        var facts = try HostFactsCollector.make()
        let p = try facts.gather(fixture.context())[0]
        #expect(p.name == "host_facts")
        #expect(field(p, "os") == .string("Debian GNU/Linux 12 (bookworm)"))
        #expect(field(p, "os_version") == .string("12"))
        #expect(field(p, "kernel") == .string("6.1.0-18-amd64"))
        #expect(field(p, "cpu_model") == .string("AMD EPYC 7B13"))
        #expect(field(p, "n_cpus") == .int(2))
        #expect(field(p, "mem_total") == .int(2048 * 1024))
        #expect(field(p, "boot_time") == .int(1_700_000_000))
        #expect(field(p, "machine_id") == .string("0123456789abcdef"))
        #expect(field(p, "ipv4") == .string("10.0.0.7"))
        #expect(field(p, "ipv6") == .string("2001:db8::1"))
    }
}

@Suite("host_facts: each fact read as often as it can change")
struct HostFactsCachingTests {
    @Test("the OS is read again when os-release changes; the kernel, lasting until a reboot, is read once")
    func rereadsOnlyWhatChanged() throws {
        let fixture = FixtureHost()
        fixture.write("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
        fixture.write("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n")
        fixture.write("proc/meminfo", "MemTotal: 2048 kB\n")
        var facts = try HostFactsCollector.make()
        _ = try facts.gather(fixture.context())
        // An upgrade rewrites os-release (a new modification time); the running kernel stays until a reboot.
        Thread.sleep(forTimeInterval: 0.02)
        fixture.write("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\n")
        fixture.write("proc/sys/kernel/osrelease", "6.12.0-1-amd64\n")
        fixture.write("proc/meminfo", "MemTotal: 4096 kB\n")
        let p = try facts.gather(fixture.context())[0]
        #expect(field(p, "os") == .string("Debian GNU/Linux 13 (trixie)"))
        #expect(field(p, "kernel") == .string("6.1.0-18-amd64"))
        #expect(field(p, "mem_total") == .int(4096 * 1024))
    }
}

@Suite("/proc/<pid> files read as bytes")
struct ProcFileParsingTests {
    @Test("stat: a command name holding spaces and parentheses, then the state and numbered fields")
    func stat() throws {
        let line = "42 (my (odd) proc) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 -5 3 0 12345 1000 50\n"
        let stat = try #require(ProcStat(Array(line.utf8)))
        #expect(stat.name == "my (odd) proc")
        #expect(stat.state == UInt8(ascii: "S"))
        let field = stat.numbers(through: 42)
        #expect(field(4) == 1)
        #expect(field(14) == 250 && field(15) == 75)
        #expect(field(19) == -5 && field(20) == 3 && field(22) == 12345)
        #expect(field(42) == 0, "a field past the end reads 0")
        #expect(ProcStat(Array("42 (truncated".utf8)) == nil)
    }

    @Test("cmdline: arguments joined by single spaces, empty ones left out, as pgrep -f matches them")
    func commandLine() throws {
        let fixture = FixtureHost()
        fixture.write("proc/7/cmdline", bytes: Array("python3\0\0-u\0/opt/app/server.py\0".utf8))
        let host = fixture.context().host
        #expect(ProcessSnapshot.commandLine(pid: 7, host: host) == "python3 -u /opt/app/server.py")
        #expect(ProcstatCollector.contains(ProcessSnapshot.commandLineBytes(pid: 7, host: host)!, Array("-u /opt".utf8)))
        #expect(!ProcstatCollector.contains(ProcessSnapshot.commandLineBytes(pid: 7, host: host)!, Array("python3  -u".utf8)))
    }

    @Test("a pattern is found in a long command line, also across two reads, and the read stops at the match")
    func longCommandLine() throws {
        let fixture = FixtureHost()
        // "needle-app" starts 3 bytes before the end of the first read (4 KiB + the overlap of 9 bytes): at 4,102.
        let args = "java\0-cp\0" + String(repeating: "x", count: 4092) + "\0needle-app\0" + String(repeating: "y", count: 20_000)
        fixture.write("proc/8/cmdline", bytes: Array(args.utf8))
        fixture.write("proc/8/stat", "8 (java) S 1 8 8 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n")
        fixture.write("proc/9/cmdline", bytes: Array(("java\0" + String(repeating: "z", count: 9000) + "\0").utf8))
        fixture.write("proc/9/stat", "9 (java) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n")
        let host = fixture.context().host
        #expect(try ProcstatCollector.make(["pattern": .string("needle-app")]).find(host) == [8])
        #expect(try ProcstatCollector.make(["pattern": .string("x needle")]).find(host) == [8], "a space matches between two arguments")
        var reads = 0
        #expect(host.scan(host.proc + "/8/cmdline", overlap: 9) { piece in
            reads += 1
            return ProcstatCollector.contains(piece, Array("needle-app".utf8))
        } == true)
        #expect(reads == 2)
    }

    @Test("status and io: the sizes procstat reports, kB made bytes")
    func statusLines() {
        var seen: [String: Int64] = [:]
        forEachLine(Array("Name:\tx\nVmRSS:\t  1024 kB\nThreads:\t3\n".utf8)) { key, value in
            seen[String(decoding: key, as: UTF8.self)] = value.firstNumber.map { value.endsWithKilobytes ? $0 * 1024 : $0 }
        }
        #expect(seen == ["VmRSS": 1024 * 1024, "Threads": 3], "Name has no number")
    }
}
