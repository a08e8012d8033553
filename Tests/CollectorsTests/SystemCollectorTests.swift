import Testing
import TockModel
@testable import Collectors

@Suite("system, kernel and processes: load, users, uptime, kernel counters and processes by state")
struct SystemCollectorTests {
    /// A glibc utmp record: type at 0, user name at 44.
    func utmpRecord(type: Int16, user: String) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: 384)
        record[0] = UInt8(type & 0xff)
        record[1] = UInt8(type >> 8)
        for (i, byte) in user.utf8.enumerated() { record[44 + i] = byte }
        return record
    }

    @Test("system: load averages, logical CPUs, logged-in users (USER_PROCESS records only), then uptime")
    func system() throws {
        let fixture = FixtureHost()
        fixture.write("proc/loadavg", "0.50 1.25 2.00 3/456 7890\n")
        fixture.write("proc/stat", "cpu  1 2 3 4\ncpu0 1 1 1 1\ncpu1 1 1 1 1\ncpu2 0 0 0 0\nintr 5\n")
        fixture.write("proc/uptime", "12345.67 40000.00\n")
        fixture.write("var/run/utmp", bytes: utmpRecord(type: 2, user: "reboot") + utmpRecord(type: 7, user: "ana")
                      + utmpRecord(type: 7, user: "bob") + utmpRecord(type: 7, user: "ana") + utmpRecord(type: 8, user: "old"))
        var system = try SystemCollector.make()
        let points = try system.gather(fixture.context())
        #expect(points.count == 2)
        #expect(field(points[0], "load1") == .double(0.5))
        #expect(field(points[0], "load15") == .double(2))
        #expect(field(points[0], "n_cpus") == .int(3))
        #expect(field(points[0], "n_users") == .int(3))
        #expect(field(points[0], "n_unique_users") == .int(2))
        #expect(points[1].fields.map(\.key) == ["uptime"])
        #expect(field(points[1], "uptime") == .int(12345))
    }

    @Test("kernel: interrupts, context switches, forks, boot time and entropy")
    func kernel() throws {
        let fixture = FixtureHost()
        fixture.write("proc/stat", "cpu  1 2 3 4\nintr 1000 1 2 3\nctxt 2000\nbtime 1700000000\nprocesses 300\nprocs_running 2\n")
        fixture.write("proc/sys/kernel/random/entropy_avail", "256\n")
        var kernel = try KernelCollector.make()
        let p = try kernel.gather(fixture.context())[0]
        #expect(p.name == "kernel")
        #expect(field(p, "interrupts") == .int(1000))
        #expect(field(p, "context_switches") == .int(2000))
        #expect(field(p, "boot_time") == .int(1_700_000_000))
        #expect(field(p, "processes_forked") == .int(300))
        #expect(field(p, "entropy_avail") == .int(256))
    }

    @Test("processes: counted by the state after the command name (which may hold spaces and parentheses)")
    func processes() throws {
        let fixture = FixtureHost()
        // stat: pid (comm) state ppid … with num_threads the 20th field.
        func stat(_ pid: Int, _ comm: String, _ state: String, threads: Int) -> String {
            "\(pid) (\(comm)) \(state) 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 \(threads) 0 100\n"
        }
        fixture.write("proc/1/stat", stat(1, "systemd", "S", threads: 1))
        fixture.write("proc/2/stat", stat(2, "my (odd) prog", "R", threads: 4))
        fixture.write("proc/3/stat", stat(3, "zombie", "Z", threads: 1))
        fixture.write("proc/4/stat", stat(4, "kworker", "I", threads: 1))
        fixture.write("proc/5/stat", stat(5, "disk", "D", threads: 2))
        fixture.write("proc/self/stat", stat(9, "self", "R", threads: 1))  // not a pid directory
        var processes = try ProcessesCollector.make()
        let p = try processes.gather(fixture.context())[0]
        #expect(field(p, "total") == .int(5))
        #expect(field(p, "running") == .int(1))
        #expect(field(p, "sleeping") == .int(1))
        #expect(field(p, "zombies") == .int(1))
        #expect(field(p, "idle") == .int(1))
        #expect(field(p, "blocked") == .int(1))
        #expect(field(p, "total_threads") == .int(9))
        #expect(field(p, "stopped") == .int(0))
    }
}
