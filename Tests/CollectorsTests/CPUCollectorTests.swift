import Testing
import TockModel
@testable import Collectors

@Suite("cpu: Telegraf's usage_* per CPU and cpu-total from two readings of /proc/stat")
struct CPUCollectorTests {
    // user nice system idle iowait irq softirq steal guest guest_nice, in clock ticks (100 per second).
    let first = """
        cpu  1000 100 500 8000 200 0 100 0 0 0
        cpu0 500 50 250 4000 100 0 50 0 0 0
        cpu1 500 50 250 4000 100 0 50 0 0 0
        intr 12345 0 0
        ctxt 999
        """
    // 1000 ticks later in all: cpu0 spent 100 in user (20 of them guest), 50 system, 330 idle, 20 iowait;
    // cpu1 500 ticks idle.
    let second = """
        cpu  1100 100 550 8830 220 0 100 0 20 0
        cpu0 600 50 300 4330 120 0 50 0 20 0
        cpu1 500 50 250 4500 100 0 50 0 0 0
        """

    func value(_ point: Point, _ field: String) -> Double? { point.fields.first { $0.key == field }?.value.numeric }

    /// Within rounding of `expected` (the times are ticks divided by 100, which binary floats cannot hold exactly).
    func near(_ point: Point, _ field: String, _ expected: Double) -> Bool {
        guard let v = value(point, field) else { return false }
        return abs(v - expected) < 1e-9
    }

    @Test("the first gather reports no usage; the second gives each state's share of the interval")
    func usage() throws {
        let fixture = FixtureHost()
        fixture.write("proc/stat", first)
        var cpu = try CPUCollector.make()
        #expect(try cpu.gather(fixture.context()).isEmpty)
        fixture.write("proc/stat", second)
        let points = try cpu.gather(fixture.context())
        #expect(points.map { $0.tags["cpu"] } == ["cpu0", "cpu1", "cpu-total"])
        #expect(points.allSatisfy { $0.name == "cpu" })
        let cpu0 = points[0]
        // cpu0's total went from 4950 to 5450: 500 ticks.
        #expect(near(cpu0, "usage_user", 100 * 80 / 500))   // 100 in user minus 20 of guest
        #expect(near(cpu0, "usage_guest", 100 * 20 / 500))
        #expect(near(cpu0, "usage_system", 100 * 50 / 500))
        #expect(near(cpu0, "usage_idle", 100 * 330 / 500))
        #expect(near(cpu0, "usage_iowait", 100 * 20 / 500))
        #expect(near(points[1], "usage_idle", 100))
        #expect(near(points[2], "usage_idle", 83))  // 830 of 1000
        #expect(cpu0.fields.map(\.key).sorted() == ["usage_guest", "usage_guest_nice", "usage_idle", "usage_iowait", "usage_irq",
                                                    "usage_nice", "usage_softirq", "usage_steal", "usage_system", "usage_user"])
    }

    @Test("collect_cpu_time adds time_* in seconds at every gather, report_active adds the active share")
    func times() throws {
        let fixture = FixtureHost()
        fixture.write("proc/stat", first)
        var cpu = try CPUCollector.make(["collect_cpu_time": .bool(true), "report_active": .bool(true), "percpu": .bool(false)])
        let once = try cpu.gather(fixture.context())
        #expect(once.count == 1)
        #expect(once[0].tags["cpu"] == "cpu-total")
        #expect(near(once[0], "time_user", 10))
        #expect(near(once[0], "time_idle", 80))
        #expect(near(once[0], "time_active", 19))  // 1900 ticks not idle
        fixture.write("proc/stat", second)
        let twice = try cpu.gather(fixture.context())
        #expect(twice.count == 2)
        #expect(near(twice[1], "usage_active", 17))
    }

    @Test("a total that goes backwards skips that CPU's usage with a warning instead of reporting nonsense")
    func backwards() throws {
        let fixture = FixtureHost()
        fixture.write("proc/stat", second)
        var cpu = try CPUCollector.make(["percpu": .bool(false)])
        _ = try cpu.gather(fixture.context())
        fixture.write("proc/stat", first)
        let log = LogLines()
        #expect(try cpu.gather(fixture.context(logged: log)).isEmpty)
        #expect(log.all.contains { $0.0 == .warning && $0.1.contains("went backwards") })
    }

    @Test("options are checked: a typo and a wrong type are refused, naming the collector and the option")
    func options() {
        #expect(throws: CollectorError("cpu", "unknown option \"per_cpu\" (options: collect_cpu_time, core_tags, percpu, report_active, totalcpu)")) {
            try CPUCollector.make(["per_cpu": .bool(false)])
        }
        #expect(throws: CollectorError("cpu", "option \"percpu\" must be a boolean, not a string")) {
            try CPUCollector.make(["percpu": .string("yes")])
        }
    }

    @Test("a missing /proc/stat is an error naming the file")
    func missing() throws {
        let fixture = FixtureHost()
        var cpu = try CPUCollector.make()
        #expect { try cpu.gather(fixture.context()) } throws: { ($0 as? CollectorError)?.message.contains("/proc/stat") == true }
    }
}
