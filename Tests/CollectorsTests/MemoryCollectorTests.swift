import Testing
import TockModel
@testable import Collectors

func field(_ point: Point, _ name: String) -> FieldValue? { point.fields.first { $0.key == name }?.value }

@Suite("mem and swap: /proc/meminfo and /proc/vmstat with Telegraf's names and gopsutil's arithmetic")
struct MemoryCollectorTests {
    let meminfo = """
        MemTotal:        1000000 kB
        MemFree:          200000 kB
        MemAvailable:     600000 kB
        Buffers:           50000 kB
        Cached:           300000 kB
        SwapCached:         1000 kB
        Active:           400000 kB
        Inactive:         250000 kB
        Shmem:             10000 kB
        Slab:              40000 kB
        SReclaimable:      30000 kB
        SUnreclaim:        10000 kB
        SwapTotal:        500000 kB
        SwapFree:         400000 kB
        HugePages_Total:       4
        HugePages_Free:        3
        Hugepagesize:       2048 kB
        """

    @Test("used is total − free − buffers − cached, with SReclaimable counted as cached")
    func mem() throws {
        let fixture = FixtureHost()
        fixture.write("proc/meminfo", meminfo)
        var mem = try MemCollector.make()
        let points = try mem.gather(fixture.context())
        #expect(points.count == 1)
        let p = points[0]
        #expect(p.name == "mem" && p.tags.isEmpty)
        #expect(field(p, "total") == .int(1_024_000_000))
        #expect(field(p, "cached") == .int(330_000 * 1024))
        #expect(field(p, "used") == .int((1_000_000 - 200_000 - 50_000 - 330_000) * 1024))
        #expect(field(p, "used_percent") == .double(42))
        #expect(field(p, "available") == .int(600_000 * 1024))
        #expect(field(p, "available_percent") == .double(60))
        #expect(field(p, "huge_pages_total") == .int(4))   // pages, not kB
        #expect(field(p, "huge_page_size") == .int(2048 * 1024))
        #expect(field(p, "shared") == .int(10_000 * 1024))
        #expect(p.fields.count == 34)
    }

    @Test("without MemAvailable (kernels before 3.14), available is free + cached")
    func oldKernel() throws {
        let fixture = FixtureHost()
        fixture.write("proc/meminfo", meminfo.split(separator: "\n").filter { !$0.hasPrefix("MemAvailable") }.joined(separator: "\n"))
        var mem = try MemCollector.make()
        #expect(field(try mem.gather(fixture.context())[0], "available") == .int((200_000 + 330_000) * 1024))
    }

    @Test("swap: sizes in one point, bytes swapped in and out (pages × page size) in a second")
    func swap() throws {
        let fixture = FixtureHost()
        fixture.write("proc/meminfo", meminfo)
        fixture.write("proc/vmstat", "pgpgin 1\npswpin 10\npswpout 20\n")
        var swap = try SwapCollector.make()
        let points = try swap.gather(fixture.context())
        #expect(points.count == 2)
        #expect(field(points[0], "used") == .int(100_000 * 1024))
        #expect(field(points[0], "used_percent") == .double(20))
        #expect(field(points[1], "in") == .int(10 * 4096))
        #expect(field(points[1], "out") == .int(20 * 4096))
    }

    @Test("a host without swap reports zeros, not a division by zero")
    func noSwap() throws {
        let fixture = FixtureHost()
        fixture.write("proc/meminfo", "MemTotal: 1000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n")
        var swap = try SwapCollector.make()
        let log = LogLines()
        let points = try swap.gather(fixture.context(logged: log))
        #expect(field(points[0], "used_percent") == .double(0))
        #expect(points.count == 1)  // no /proc/vmstat: no in/out, a debug line
        #expect(log.all.contains { $0.0 == .debug && $0.1.contains("vmstat") })
    }
}
