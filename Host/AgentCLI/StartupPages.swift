#if canImport(Glibc)
import Glibc
#endif

/// Gives back the resident pages of read-only file mappings (code and constants of the executable and its libraries)
/// once the agent has started: what only start-up touched (argument parsing, configuration, the Swift runtime's first
/// scans of its metadata, and the kernel's fault-around of 64 KiB per fault) stops counting in the agent's RSS, and
/// what the gathers and the shipper keep using comes back on their next round as minor faults from the page cache.
/// This is what the kernel does itself to clean file pages under memory pressure; only mappings that are read-only
/// and hold no private copy (`Anonymous: 0 kB` in `/proc/self/smaps`, so nothing relocated) are touched. Linux only.
public enum StartupPages {
    /// The read-only file mappings of this process that hold no private page, as (start, length).
    static func cleanReadOnlyMappings(_ smaps: String) -> [(start: UInt, length: UInt)] {
        var result: [(start: UInt, length: UInt)] = []
        var current: (start: UInt, length: UInt)?
        for line in smaps.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first else { continue }
            if first.contains("-") && words.count >= 6, let dash = first.firstIndex(of: "-"),
               let start = UInt(first[..<dash], radix: 16), let end = UInt(first[first.index(after: dash)...], radix: 16) {
                // A file mapping (a path, not [heap] or [stack]), readable, neither writable nor shared.
                let perms = words[1]
                let readOnly = perms.hasPrefix("r-") && perms.hasSuffix("p")
                current = readOnly && words[5].hasPrefix("/") && end > start ? (start, end - start) : nil
            } else if first == "Anonymous:", let mapping = current {
                if words.count >= 2 && words[1] == "0" { result.append(mapping) }
                current = nil
            }
        }
        return result
    }

    /// Drops the resident pages of every clean read-only file mapping; returns the bytes of address space advised.
    @discardableResult
    public static func release() -> UInt {
        #if os(Linux)
        guard let file = fopen("/proc/self/smaps", "r") else { return 0 }
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            text.append(contentsOf: buffer[0..<n])
        }
        fclose(file)
        var advised: UInt = 0
        for mapping in cleanReadOnlyMappings(String(decoding: text, as: UTF8.self)) {
            let start = UnsafeMutableRawPointer(bitPattern: mapping.start)
            // Random access: a later fault maps the page it needs, not the kernel's 64-KiB window around it.
            _ = madvise(start, Int(mapping.length), MADV_RANDOM)
            if madvise(start, Int(mapping.length), MADV_DONTNEED) == 0 {
                advised += mapping.length
            }
        }
        return advised + releaseConstants()
        #else
        return 0
        #endif
    }

    /// Drops the resident pages of the executable's `.rodata` that are still the file's (never written). A
    /// statically linked Foundation brings ICU's data and CoreFoundation's Unicode tables there, and because some
    /// input marks its `.rodata` writable, the linker puts the section in a writable segment, which ``release()``
    /// leaves alone as a whole. The section itself is constant: a page whose pagemap entry says it is a private copy
    /// (somehow written) is kept all the same. Returns the bytes dropped.
    static func releaseConstants() -> UInt {
        #if os(Linux)
        guard let range = executableSection(".rodata") else { return 0 }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        // Whole pages only: the section's last page may hold the start of `.data`.
        let first = (range.lowerBound + page - 1) / page * page
        let end = range.upperBound / page * page
        guard end > first, let pagemap = fopen("/proc/self/pagemap", "r") else { return 0 }
        defer { fclose(pagemap) }
        let count = Int((end - first) / page)
        var entries = [UInt64](repeating: 0, count: count)
        guard fseeko(pagemap, off_t((first / page) * 8), SEEK_SET) == 0,
              fread(&entries, 8, count, pagemap) == count else { return 0 }
        var dropped: UInt = 0
        var runStart: Int?
        func flush(_ upTo: Int) {
            guard let start = runStart else { return }
            let address = UnsafeMutableRawPointer(bitPattern: first + UInt(start) * page)
            let length = Int(UInt(upTo - start) * page)
            _ = madvise(address, length, MADV_RANDOM)
            if madvise(address, length, MADV_DONTNEED) == 0 { dropped += UInt(length) }
            runStart = nil
        }
        for (index, entry) in entries.enumerated() {
            // Bit 63: present; bit 61: a file page (not a private anonymous copy).
            let clean = entry & (1 << 63) != 0 && entry & (1 << 61) != 0
            if clean { if runStart == nil { runStart = index } } else { flush(index) }
        }
        flush(count)
        return dropped
        #else
        return 0
        #endif
    }

    /// Where a section of this executable is loaded, from its ELF section headers and the address the executable's
    /// first mapping (file offset 0) starts at.
    static func executableSection(_ name: String) -> Range<UInt>? {
        guard let file = fopen("/proc/self/exe", "r") else { return nil }
        defer { fclose(file) }
        func read(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            guard fseeko(file, off_t(offset), SEEK_SET) == 0, fread(&bytes, 1, count, file) == count else { return nil }
            return bytes
        }
        func integer(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }
        }
        // ELF64, little-endian: e_shoff at 0x28, e_shentsize 0x3a, e_shnum 0x3c, e_shstrndx 0x3e.
        guard let header = read(0, 64), header[0..<4].elementsEqual([0x7f, 0x45, 0x4c, 0x46]), header[4] == 2,
              header[5] == 1 else { return nil }
        let shoff = integer(header, 0x28, 8), entsize = Int(integer(header, 0x3a, 2))
        let count = Int(integer(header, 0x3c, 2)), names = Int(integer(header, 0x3e, 2))
        guard entsize >= 64, count > 0, names < count, let table = read(shoff, entsize * count) else { return nil }
        // In each section header: sh_name 0x00, sh_addr 0x10, sh_offset 0x18, sh_size 0x20.
        let stringsOffset = integer(table, names * entsize + 0x18, 8), stringsSize = Int(integer(table, names * entsize + 0x20, 8))
        guard let strings = read(stringsOffset, stringsSize) else { return nil }
        let wanted = Array(name.utf8) + [0]
        for index in 0..<count {
            let at = index * entsize
            let nameOffset = Int(integer(table, at, 4))
            guard nameOffset + wanted.count <= strings.count,
                  strings[nameOffset..<(nameOffset + wanted.count)].elementsEqual(wanted) else { continue }
            let address = UInt(integer(table, at + 0x10, 8)), size = UInt(integer(table, at + 0x20, 8))
            guard let base = loadBase(), size > 0 else { return nil }
            return (base + address)..<(base + address + size)
        }
        return nil
    }

    /// The start of the executable's mapping at file offset 0 (its load address, for a position-independent one).
    static func loadBase() -> UInt? {
        var target = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &target, target.count - 1)
        guard length > 0, let maps = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(maps) }
        let exe = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var line = [CChar](repeating: 0, count: 8192)
        while fgets(&line, Int32(line.count), maps) != nil {
            var text = String(cString: line)
            if text.hasSuffix("\n") { text.removeLast() }
            let words = text.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count >= 6, words[2] == "00000000", words[5...].joined(separator: " ") == exe,
                  let dash = words[0].firstIndex(of: "-") else { continue }
            return UInt(words[0][..<dash], radix: 16)
        }
        return nil
    }
}
