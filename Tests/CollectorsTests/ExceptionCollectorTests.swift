import Foundation
import Testing
import TockModel
@testable import Collectors

@Suite("exceptions: disk full, read-only file systems, OOM kills and core files as host_exception events")
struct ExceptionCollectorTests {
    @Test("each problem is one event, reported when it appears; what happened before the first gather is not")
    func events() throws {
        let fixture = FixtureHost()
        fixture.write("proc/filesystems", "nodev\ttmpfs\n\text4\n")
        fixture.write("proc/self/mounts", "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /data ext4 rw 0 0\n")
        fixture.usage = ["/": FileSystemUsage(total: 100, free: 2, used: 98, inodesTotal: 1, inodesFree: 1),
                         "/data": FileSystemUsage(total: 100, free: 50, used: 50, inodesTotal: 1, inodesFree: 1)]
        fixture.write("kmsg.log", "Out of memory: Killed process 1 (old) before we started\n")
        fixture.write("cores/core.1", "")
        var exceptions = try ExceptionCollector.make(["kmsg": .string(fixture.root + "/kmsg.log"),
                                                      "corefile_dirs": .strings([fixture.root + "/cores"])])
        let first = try exceptions.gather(fixture.context())
        #expect(first.map { $0.tags["type"] } == ["disk_full"])
        #expect(first[0].tags["path"] == "/")
        #expect(field(first[0], "value") == .double(98))

        fixture.write("proc/self/mounts", "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /data ext4 ro 0 0\n")
        let log = fixture.root + "/kmsg.log"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        handle.write(Data("Out of memory: Killed process 4242 (java) total-vm:1000kB\n".utf8))
        try handle.close()
        fixture.write("cores/core.2", "")
        let second = try exceptions.gather(fixture.context())
        #expect(Set(second.compactMap { $0.tags["type"] }) == ["disk_full", "disk_readonly", "oom", "corefile"])
        let oom = try #require(second.first { $0.tags["type"] == "oom" })
        #expect(field(oom, "value") == .double(4242))
        #expect(field(oom, "message") == .string("Out of memory: Killed process 4242 (java) total-vm:1000kB"))
        #expect(second.first { $0.tags["type"] == "corefile" }?.tags["path"] == fixture.root + "/cores/core.2")
        #expect(second.first { $0.tags["type"] == "disk_readonly" }?.tags["path"] == "/data")

        // Nothing new: only the disk that is still full.
        #expect(try exceptions.gather(fixture.context()).map { $0.tags["type"] } == ["disk_full"])
    }
}
