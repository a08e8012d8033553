import Glibc

/// A read of Linux's process table (`/proc`): who is whose parent, in which process group and session,
/// and which processes carry a given environment marker.
///
/// The supervisor uses it to find what a plugin left behind: processes in the plugin's group, processes
/// that escaped into a session of their own (`setsid`) but still carry the plugin's marker, and every
/// descendant of this process at exit.
package struct ProcessTable: Sendable {
    /// One process, from `/proc/PID/stat`.
    package struct Entry: Sendable, Hashable {
        package var pid: pid_t
        package var ppid: pid_t
        package var processGroup: pid_t
        package var session: pid_t
        /// The state letter (`R`, `S`, `Z` for a zombie…).
        package var state: Character

        package var isZombie: Bool { state == "Z" || state == "X" }
    }

    package var entries: [Entry]

    /// Reads every process's `stat` (processes that vanish meanwhile are skipped).
    package static func read() -> ProcessTable {
        ProcessTable(entries: processIDs().compactMap(entry(pid:)))
    }

    /// The pids listed in `/proc`.
    package static func processIDs() -> [pid_t] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var pids: [pid_t] = []
        while let item = readdir(dir) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let pid = pid_t(name) { pids.append(pid) }
        }
        return pids
    }

    /// One process's `stat`, or `nil` when it is gone.
    package static func entry(pid: pid_t) -> Entry? {
        guard let bytes = readSmallFile("/proc/\(pid)/stat") else { return nil }
        // "pid (comm) state ppid pgrp session …"; comm may hold spaces and parentheses: cut at the last ')'.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "), maxSplits: 5)
        guard fields.count >= 4, let state = fields[0].first,
              let ppid = pid_t(String(decoding: fields[1], as: UTF8.self)),
              let pgrp = pid_t(String(decoding: fields[2], as: UTF8.self)),
              let session = pid_t(String(decoding: fields[3], as: UTF8.self)) else { return nil }
        return Entry(pid: pid, ppid: ppid, processGroup: pgrp, session: session, state: Character(UnicodeScalar(state)))
    }

    /// Every process below `root` in the parent chain (children, their children…), `root` excluded.
    package func descendants(of root: pid_t) -> [Entry] {
        var children: [pid_t: [Entry]] = [:]
        for e in entries { children[e.ppid, default: []].append(e) }
        var out: [Entry] = []
        var stack = children[root] ?? []
        while let e = stack.popLast() {
            out.append(e)
            stack += children[e.pid] ?? []
        }
        return out
    }

    /// The processes in process group `group`.
    package func members(ofGroup group: pid_t) -> [Entry] {
        entries.filter { $0.processGroup == group }
    }

    /// The live processes whose environment holds `marker` (`NAME=value`). Processes of other users, whose
    /// environment cannot be read, are skipped.
    package static func carrying(marker: String, excluding excluded: Set<pid_t> = []) -> [pid_t] {
        let needle = Array(marker.utf8)
        var out: [pid_t] = []
        for pid in processIDs() where !excluded.contains(pid) {
            guard let environ = readSmallFile("/proc/\(pid)/environ", limit: 1 << 20) else { continue }
            for variable in environ.split(separator: 0) where variable.elementsEqual(needle) {
                out.append(pid)
                break
            }
        }
        return out
    }

    /// A `/proc` file's bytes (these report a size of 0, so read until the end).
    package static func readSmallFile(_ path: String, limit: Int = 64 << 10) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while out.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            out += chunk[0..<n]
        }
        return out
    }
}
