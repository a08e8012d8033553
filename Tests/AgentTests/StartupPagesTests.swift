@testable import AgentCLI
import Testing

@Suite("tock-agent gives back the pages only start-up used")
struct StartupPagesTests {
    @Test("only read-only private file mappings without a private page are released: not relocated data, writable or shared mappings, the heap")
    func chosenMappings() {
        let smaps = """
            55ea5c044000-55ea5d043000 r--p 00000000 fd:01 123 /usr/bin/tock-agent
            Rss:                7600 kB
            Anonymous:             0 kB
            55ea5d043000-55ea5ef3a000 r-xp 00fff000 fd:01 123 /usr/bin/tock-agent
            Rss:               14364 kB
            Anonymous:             0 kB
            55ea5ef3a000-55ea5f07c000 r--p 02ef6000 fd:01 123 /usr/bin/tock-agent
            Rss:                1288 kB
            Anonymous:          1288 kB
            55ea5f07d000-55ea61618000 rw-p 03038000 fd:01 123 /usr/bin/tock-agent
            Anonymous:           484 kB
            55ea61618000-55ea61700000 rw-p 00000000 00:00 0 [heap]
            Anonymous:           224 kB
            7f73f2000000-7f73f20c5000 r--s 00000000 fd:01 9 /usr/lib/locale/archive
            Anonymous:             0 kB
            7f73f2644000-7f73f279a000 r-xp 00028000 fd:01 77 /usr/lib/x86_64-linux-gnu/libc.so.6
            Anonymous:             0 kB
            """
        let chosen = StartupPages.cleanReadOnlyMappings(smaps)
        let starts: [UInt] = [0x55ea5c044000, 0x55ea5d043000, 0x7f73f2644000]
        let lengths: [UInt] = [0x00fff000, 0x01ef7000, 0x00156000]
        #expect(chosen.map(\.start) == starts)
        #expect(chosen.map(\.length) == lengths)
    }

    @Test("released in this very process, which goes on running: its code and constants come back from the page cache")
    func releasedHere() {
        let before = (1...1000).map { String($0) }.joined(separator: ",")
        #expect(StartupPages.release() > 0)
        let after = (1...1000).map { String($0) }.joined(separator: ",")
        #expect(before == after)
    }

    @Test("the executable's constants (.rodata) are found from its ELF section headers and dropped; they read the same after")
    func constantsReleased() throws {
        let range = try #require(StartupPages.executableSection(".rodata"))
        let base = try #require(StartupPages.loadBase())
        #expect(range.lowerBound > base && range.count > 0)
        #expect(StartupPages.executableSection(".no-such-section") == nil)
        let before = "a constant string in .rodata, long enough not to be stored inline"
        _ = StartupPages.releaseConstants()
        #expect(before == "a constant string in .rodata, long enough not to be stored inline")
    }
}
