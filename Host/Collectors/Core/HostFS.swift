#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where the host's kernel interfaces are: `/proc`, `/sys` and `/var/run/utmp`, moved by Telegraf's (and gopsutil's)
/// `HOST_PROC`, `HOST_SYS` and `HOST_VAR` variables (a collector in a container reading the host's mounted `/proc`),
/// or by a test to a fixture tree.
public struct HostFS: Sendable {
    public var proc: String
    public var sys: String
    /// `/etc`: os-release, machine-id, passwd.
    public var etc: String = "/etc"
    /// The login records `system` counts users from.
    public var utmp: String
    /// The usage of the file system mounted at a path (`statvfs`); a test replaces it.
    public var usage: @Sendable (String) -> FileSystemUsage?
    /// Bytes per page (`sysconf(_SC_PAGESIZE)`).
    public var pageSize: Int64
    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of `/proc/stat`'s CPU times.
    public var clockTicks: Double = 100

    public init(proc: String, sys: String, utmp: String, pageSize: Int64 = 4096, clockTicks: Double = 100,
                usage: @escaping @Sendable (String) -> FileSystemUsage? = HostFS.statvfsUsage) {
        self.clockTicks = clockTicks
        self.proc = proc
        self.sys = sys
        self.utmp = utmp
        self.pageSize = pageSize
        self.usage = usage
    }

    /// The running host, honouring `HOST_PROC`, `HOST_SYS` and `HOST_VAR`.
    public static var live: HostFS {
        let env = { (name: String) -> String? in getenv(name).map { String(cString: $0) } }
        var host = HostFS(proc: env("HOST_PROC") ?? "/proc", sys: env("HOST_SYS") ?? "/sys",
                          utmp: (env("HOST_VAR").map { $0 + "/run/utmp" }) ?? "/var/run/utmp",
                          pageSize: Int64(sysconf(Int32(_SC_PAGESIZE))), clockTicks: Double(sysconf(Int32(_SC_CLK_TCK))))
        host.etc = env("HOST_ETC") ?? "/etc"
        return host
    }

    /// The machine's name as the kernel knows it (`hostname`), which Telegraf puts in every point's `host` tag.
    public static var hostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(cString: buffer)
    }

    /// A fixture tree laid out as `/` is: `<root>/proc`, `<root>/sys`, `<root>/var/run/utmp`.
    public static func fixture(root: String, pageSize: Int64 = 4096,
                               usage: @escaping @Sendable (String) -> FileSystemUsage? = { _ in nil }) -> HostFS {
        var host = HostFS(proc: root + "/proc", sys: root + "/sys", utmp: root + "/var/run/utmp", pageSize: pageSize, usage: usage)
        host.etc = root + "/etc"
        return host
    }

    /// The text of `path` (absolute, already under ``proc`` or ``sys``), or why it could not be read.
    public func text(_ path: String) throws(CollectorError) -> String {
        guard let bytes = bytes(path) else {
            throw CollectorError("", "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// When `path` (followed through symbolic links) was last modified, in nanoseconds since the epoch; `nil` when it
    /// does not exist.
    public func modified(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }

    /// The bytes of `path`, or `nil` when it cannot be read. Reads to the end: `/proc` files report no size.
    public func bytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // Read straight into the result, doubling it as it fills (most /proc files fit in the first 4 KiB).
        var out = [UInt8](repeating: 0, count: 4096)
        var used = 0
        while true {
            if used == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + used, $0.count - used) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            used += n
            // Bounded: no kernel interface a collector reads is this large.
            if used > 64 << 20 { break }
        }
        out.removeLast(out.count - used)
        return out
    }

    /// Reads `path` a piece at a time (each holding the last `overlap` bytes of the one before, then what followed)
    /// until `body` returns true; returns whether it did, or `nil` when the file cannot be read.
    public func scan(_ path: String, overlap: Int, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let size = 4096 + overlap
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
        defer { buffer.deallocate() }
        var kept = 0
        var total = 0
        while total < 64 << 20 {
            let n = read(fd, buffer.baseAddress! + kept, size - kept)
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return false }
            total += n
            if body(UnsafeRawBufferPointer(rebasing: buffer[0..<(kept + n)])) { return true }
            // Keep the tail, so that what spans two reads is found.
            let keep = min(overlap, kept + n)
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + (kept + n - keep), byteCount: keep)
            kept = keep
        }
        return false
    }

    /// The entries of a directory, or an empty list when it cannot be listed.
    public func entries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// How many entries a directory has besides `.` and `..` (a process's open files), or 0 when it cannot be read.
    public func entryCount(_ path: String) -> Int {
        guard let dir = opendir(path) else { return 0 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let dots = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                raw[0] == UInt8(ascii: ".") && (raw[1] == 0 || (raw[1] == UInt8(ascii: ".") && raw[2] == 0))
            }
            if !dots { count += 1 }
        }
        return count
    }

    /// `statvfs` of a mount point: what `df` reports.
    public static let statvfsUsage: @Sendable (String) -> FileSystemUsage? = { path in
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        let unit = UInt64(s.f_frsize == 0 ? s.f_bsize : s.f_frsize)
        return FileSystemUsage(total: UInt64(s.f_blocks) * unit, free: UInt64(s.f_bavail) * unit,
                               used: (UInt64(s.f_blocks) - UInt64(s.f_bfree)) * unit,
                               inodesTotal: UInt64(s.f_files), inodesFree: UInt64(s.f_ffree))
    }
}

/// What `statvfs` says of one file system, in bytes and inodes.
public struct FileSystemUsage: Sendable, Hashable {
    public var total: UInt64
    /// Available to unprivileged users (`f_bavail`), as `df` and Telegraf report it.
    public var free: UInt64
    /// Total minus every free block, the root-reserved ones included.
    public var used: UInt64
    public var inodesTotal: UInt64
    public var inodesFree: UInt64

    public init(total: UInt64, free: UInt64, used: UInt64, inodesTotal: UInt64, inodesFree: UInt64) {
        self.total = total
        self.free = free
        self.used = used
        self.inodesTotal = inodesTotal
        self.inodesFree = inodesFree
    }
}

extension String {
    /// Whitespace-separated words, as Go's `strings.Fields`.
    var words: [Substring] { asciiWords(self) }
}

extension Substring {
    var words: [Substring] { asciiWords(self) }
}

/// Splits on spaces, tabs and newlines, byte by byte: the kernel's files are ASCII where they are split, and
/// comparing bytes skips the grapheme breaking that splitting by `Character` does.
private func asciiWords<S: StringProtocol>(_ text: S) -> [Substring] where S.SubSequence == Substring {
    var words: [Substring] = []
    let utf8 = text.utf8
    var start: String.Index?
    var index = utf8.startIndex
    while index != utf8.endIndex {
        let byte = utf8[index]
        if byte == 0x20 || byte == 0x09 || byte == 0x0A {
            if let first = start {
                words.append(text[first..<index])
                start = nil
            }
        } else if start == nil {
            start = index
        }
        index = utf8.index(after: index)
    }
    if let first = start { words.append(text[first..<utf8.endIndex]) }
    return words
}
