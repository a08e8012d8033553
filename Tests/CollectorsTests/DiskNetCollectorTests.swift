#if canImport(Glibc)
import Glibc
#endif
import Testing
import TockModel
@testable import Collectors

@Suite("disk, diskio, net and netstat: mounts, block devices, interfaces and sockets")
struct DiskNetCollectorTests {
    @Test("disk: physical file systems only, tagged path/device/fstype/mode, used_percent of what users can use")
    func disk() throws {
        let fixture = FixtureHost()
        fixture.write("proc/filesystems", "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\n\text4\n\tvfat\n")
        fixture.write("proc/self/mounts", """
            sysfs /sys sysfs rw,nosuid 0 0
            /dev/sda1 / ext4 rw,relatime 0 0
            tmpfs /run tmpfs rw,nosuid 0 0
            /dev/sdb1 /mnt/my\\040disk vfat ro,noatime 0 0
            /dev/sda1 / ext4 rw,relatime 0 0
            """)
        fixture.usage = [
            "/": FileSystemUsage(total: 1000, free: 200, used: 750, inodesTotal: 100, inodesFree: 40),
            "/mnt/my disk": FileSystemUsage(total: 500, free: 500, used: 0, inodesTotal: 0, inodesFree: 0),
        ]
        var disk = try DiskCollector.make()
        let points = try disk.gather(fixture.context())
        #expect(points.map { $0.tags["path"] } == ["/", "/mnt/my disk"])
        let root = points[0]
        #expect(root.tags.dictionary == ["path": "/", "device": "sda1", "fstype": "ext4", "mode": "rw"])
        #expect(field(root, "used_percent") == .double(100 * 750.0 / 950.0))
        #expect(field(root, "inodes_used") == .int(60))
        #expect(points[1].tags["mode"] == "ro")

        var onlyExt4 = try DiskCollector.make(["ignore_fs": .strings(["vfat"])])
        #expect(try onlyExt4.gather(fixture.context()).count == 1)
    }

    let diskstats1 = "   8       0 sda 100 10 2000 50 200 20 4000 150 0 300 400 0 0 0 0\n   7       0 loop0 1 0 2 0 0 0 0 0 0 0 0\n"
    let diskstats2 = "   8       0 sda 150 10 3000 100 250 20 5000 250 1 800 900 0 0 0 0\n"

    @Test("diskio: counters per device, bytes from sectors, and await/svctm/util over the interval from the second reading")
    func diskio() throws {
        let fixture = FixtureHost()
        fixture.write("proc/diskstats", diskstats1)
        var diskio = try DiskIOCollector.make(["devices": .strings(["sd*"])])
        let first = try diskio.gather(fixture.context(time: 1_000_000_000))
        #expect(first.map { $0.tags["name"] } == ["sda"])
        #expect(field(first[0], "read_bytes") == .int(2000 * 512))
        #expect(field(first[0], "io_time") == .int(300))
        #expect(field(first[0], "io_util") == nil)
        fixture.write("proc/diskstats", diskstats2)
        let second = try diskio.gather(fixture.context(time: 11_000_000_000))
        // 100 operations in 10 s; 150 ms spent waiting for them; the disk busy 500 ms.
        #expect(field(second[0], "io_await") == .double(1.5))
        #expect(field(second[0], "io_svctm") == .double(5))
        #expect(field(second[0], "io_util") == .double(5))
    }

    @Test("net: interfaces that are up and not loopback, and protocol counters as interface=all")
    func net() throws {
        let fixture = FixtureHost()
        fixture.write("proc/net/dev", """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:  5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
              eth0: 123456    789    1    2    0     0          0         0   654321     987    3    4    0     0       0          0
              eth1:     10      1    0    0    0     0          0         0       10       1    0    0    0     0       0          0
            """)
        fixture.write("sys/class/net/lo/flags", "0x9\n")
        fixture.write("sys/class/net/eth0/flags", "0x1003\n")
        fixture.write("sys/class/net/eth1/flags", "0x1002\n")  // down
        fixture.write("proc/net/snmp", """
            Ip: Forwarding DefaultTTL InReceives
            Ip: 1 64 1000
            Tcp: RtoAlgorithm ActiveOpens CurrEstab
            Tcp: 1 42 7
            """)
        var net = try NetCollector.make()
        let points = try net.gather(fixture.context())
        #expect(points.map { $0.tags["interface"] } == ["eth0", "all"])
        #expect(field(points[0], "bytes_recv") == .int(123456))
        #expect(field(points[0], "bytes_sent") == .int(654321))
        #expect(field(points[0], "err_out") == .int(3))
        #expect(field(points[0], "drop_out") == .int(4))
        #expect(field(points[1], "tcp_activeopens") == .int(42))
        #expect(field(points[1], "ip_defaultttl") == .int(64))

        var named = try NetCollector.make(["interfaces": .strings(["eth*", "lo"]), "ignore_protocol_stats": .bool(true)])
        #expect(try named.gather(fixture.context()).map { $0.tags["interface"] } == ["lo", "eth0", "eth1"])
    }

    @Test("netstat: TCP sockets by state from tcp and tcp6, UDP sockets from udp and udp6")
    func netstat() throws {
        let fixture = FixtureHost()
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        fixture.write("proc/net/tcp", header + "0: 0100007F:1F90 00000000:0000 0A 0:0 00:0 0 0 0 1\n1: 0100007F:1F90 0100007F:C000 01 0:0 00:0 0 0 0 2\n")
        fixture.write("proc/net/tcp6", header + "0: 0:1F90 0:0 06 0:0 00:0 0 0 0 3\n")
        fixture.write("proc/net/udp", header + "0: 0:0035 0:0 07 0:0 00:0 0 0 0 4\n")
        var netstat = try NetstatCollector.make()
        let p = try netstat.gather(fixture.context())[0]
        #expect(field(p, "tcp_listen") == .int(1))
        #expect(field(p, "tcp_established") == .int(1))
        #expect(field(p, "tcp_time_wait") == .int(1))
        #expect(field(p, "udp_socket") == .int(1))
        #expect(field(p, "tcp_close_wait") == .int(0))
        #expect(p.fields.count == 13)
    }

    @Test("netstat: a state code past the kernel's 11, or lower-case hex, counts as Telegraf counts it")
    func netstatCodes() {
        var counts = [Int](repeating: 0, count: 16)
        let listing = "  sl  local_address rem_address   st\n 0: 0:1 0:0 0a 0\n 1: 0:1 0:0 0C 0\n 2: 0:1 0:0 08 0\n\n"
        NetstatCollector.countStates(Array(listing.utf8), into: &counts)
        #expect(counts[10] == 1)  // 0a: listen
        #expect(counts[8] == 1)   // close_wait
        #expect(counts[0] == 1)   // 0C: tcp_none
        #expect(counts.reduce(0, +) == 3)
    }
}

@Suite("netstat on this machine: sock_diag netlink and /proc/net agree", .serialized)
struct NetstatNetlinkTests {
    @Test("a listener and a connection of this test are counted both over netlink and from /proc/net/tcp")
    func netlinkAgreesWithProc() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        try #require(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, size) } } == 0)
        try #require(listen(listener, 4) == 0)
        var bound = sockaddr_in()
        var length = size
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        try #require(withUnsafePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, size) } } == 0)
        let accepted = accept(listener, nil, nil)
        defer { close(accepted) }
        let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(udp) }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, size) } }

        let viaNetlink = try #require(SockDiag.countByState(family: UInt8(AF_INET), protocol: UInt8(IPPROTO_TCP)),
                                      "sock_diag refused: netstat would read /proc/net/tcp")
        #expect(viaNetlink[10] >= 1)  // our listener
        #expect(viaNetlink[1] >= 2)   // both ends of our connection
        // One walk of both families (the older request) counts what the two per-family dumps count together.
        let both = try #require(SockDiag.tcpCountByState(), "the kernel refused TCPDIAG_GETSOCK")
        let v6 = try #require(SockDiag.countByState(family: UInt8(AF_INET6), protocol: UInt8(IPPROTO_TCP)))
        #expect(both[10] == viaNetlink[10] + v6[10])
        #expect(both[1] >= 2)
        // The UDP count from sockstat's counters is the number of sockets a dump of the UDP tables lists (compared
        // a few times: other processes on this machine open and close sockets between the two readings).
        var agreed: [(Int, Int)] = []
        for _ in 0..<10 {
            let counters = try #require(HostFS.live.bytes("/proc/net/sockstat"))
            let sockstat = try #require(NetstatCollector.inUse(counters, "UDP"))
            let sockstat6 = NetstatCollector.inUse(HostFS.live.bytes("/proc/net/sockstat6") ?? [], "UDP6") ?? 0
            let dumped = (SockDiag.countByState(family: UInt8(AF_INET), protocol: UInt8(IPPROTO_UDP))?.reduce(0, +) ?? -1)
                + (SockDiag.countByState(family: UInt8(AF_INET6), protocol: UInt8(IPPROTO_UDP))?.reduce(0, +) ?? 0)
            agreed.append((sockstat + sockstat6, dumped))
            if sockstat >= 1 && sockstat + sockstat6 == dumped { break }
        }
        #expect(agreed.contains { $0.0 >= 1 && $0.0 == $0.1 }, "sockstat against the dump: \(agreed)")
        #expect(NetstatCollector.inUse(Array("sockets: used 70\nTCP: inuse 1 orphan 0\nUDP: inuse 12 mem 3\n".utf8), "UDP") == 12)
        #expect(NetstatCollector.inUse(Array("UDP: inuse\n".utf8), "UDP") == nil)
        #expect(NetstatCollector.inUse(Array("UDPLITE: inuse 4\n".utf8), "UDP") == nil)
        var collector = try NetstatCollector.make()
        collector.useNetlink = true
        let netlink = try collector.gather(GatherContext(time: 0))[0]
        collector.useNetlink = false
        let files = try collector.gather(GatherContext(time: 0))[0]
        for p in [netlink, files] {
            #expect(p.fields.count == 13)
            #expect((field(p, "tcp_listen")?.numeric ?? 0) >= 1)
            #expect((field(p, "tcp_established")?.numeric ?? 0) >= 2)
            #expect((field(p, "udp_socket")?.numeric ?? 0) >= 1)
        }
    }
}

@Suite("every built-in collector on this machine's real /proc and /sys")
struct LiveCollectorTests {
    @Test("each default collector gathers twice without error; cpu-total's usage shares add up to 100")
    func live() throws {
        for name in CollectorRegistry.defaults {
            var collector = try CollectorRegistry.make(name, options: CollectorOptions(collector: name))
            _ = try collector.gather(GatherContext(time: 1))
            let points = try collector.gather(GatherContext(time: 2))
            if ["mem", "swap", "system", "kernel", "processes", "netstat"].contains(name) {
                #expect(!points.isEmpty, "\(name) reported nothing")
            }
            if name == "cpu", let total = points.first(where: { $0.tags["cpu"] == "cpu-total" }) {
                let shares = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq",
                              "usage_softirq", "usage_steal"].compactMap { field(total, $0)?.numeric }
                #expect(abs(shares.reduce(0, +) - 100) < 0.001)
            }
        }
    }
}
