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
        return advised
        #else
        return 0
        #endif
    }
}
