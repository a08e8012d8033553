import TockModel

/// What `/proc/<pid>` says of one process, read as Telegraf's procstat (through gopsutil) reads it.
struct ProcessSnapshot: Sendable {
    var pid: Int
    /// The command name (`comm`, at most 15 bytes).
    var name: String
    var state: Character
    /// Seconds of CPU.
    var userTime: Double
    var systemTime: Double
    var iowaitTime: Double
    /// Nanoseconds since the epoch.
    var createdAt: Int64
    var threads: Int64
    var nice: Int64
    var realtimePriority: Int64
    var status: [String: Int64] = [:]
    var uid: Int?
    var io: [String: Int64] = [:]
    var fds: Int64?

    /// The `status` lines procstat reports (`Uid` apart); sizes in `kB` become bytes.
    static let statusKeys: [[UInt8]] = ["VmRSS", "VmSize", "VmSwap", "VmData", "VmStk", "VmLck",
                                        "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"].map { Array($0.utf8) }
    /// The `io` lines procstat reports.
    static let ioKeys: [[UInt8]] = ["read_bytes", "write_bytes", "syscr", "syscw"].map { Array($0.utf8) }

    /// Reads `/proc/<pid>`; `nil` when the process is gone or unreadable.
    init?(pid: Int, host: HostFS, bootTime: Int64) {
        let dir = host.proc + "/\(pid)"
        guard let bytes = host.bytes(dir + "/stat"), let stat = ProcStat(bytes) else { return nil }
        self.pid = pid
        name = stat.name
        state = Character(Unicode.Scalar(stat.state))
        let field = stat.numbers(through: 42)
        userTime = Double(field(14)) / host.clockTicks
        systemTime = Double(field(15)) / host.clockTicks
        iowaitTime = Double(field(42)) / host.clockTicks
        nice = field(19)
        threads = field(20)
        realtimePriority = field(40)
        createdAt = (bootTime * 1_000_000_000) + Int64(Double(field(22)) / host.clockTicks * 1e9)
        if let text = host.bytes(dir + "/status") {
            forEachLine(text) { key, value in
                if key.elementsEqual("Uid".utf8) {
                    uid = value.firstNumber.map(Int.init)
                } else if Self.statusKeys.contains(where: { key.elementsEqual($0) }), let n = value.firstNumber {
                    status[String(decoding: key, as: UTF8.self)] = value.endsWithKilobytes ? n * 1024 : n
                }
            }
        }
        if let text = host.bytes(dir + "/io") {
            forEachLine(text) { key, value in
                if Self.ioKeys.contains(where: { key.elementsEqual($0) }), let n = value.firstNumber {
                    io[String(decoding: key, as: UTF8.self)] = n
                }
            }
        }
        let fdCount = host.entryCount(dir + "/fd")
        fds = fdCount == 0 ? nil : Int64(fdCount)
    }

    /// The command line, its arguments joined by spaces (`/proc/<pid>/cmdline` separates them with NULs).
    static func commandLine(pid: Int, host: HostFS) -> String? {
        commandLineBytes(pid: pid, host: host).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The command line as bytes, its non-empty arguments joined by single spaces.
    static func commandLineBytes(pid: Int, host: HostFS) -> [UInt8]? {
        guard var bytes = host.bytes(host.proc + "/\(pid)/cmdline") else { return nil }
        var written = 0
        var space = false
        for i in bytes.indices {
            let byte = bytes[i]
            if byte == 0 {
                space = written > 0
                continue
            }
            if space {
                bytes[written] = UInt8(ascii: " ")
                written += 1
                space = false
            }
            bytes[written] = byte
            written += 1
        }
        bytes.removeLast(bytes.count - written)
        return bytes
    }

    /// Every process ID under `/proc`.
    static func pids(_ host: HostFS) -> [Int] {
        host.entries(host.proc).compactMap { Int($0) }.sorted()
    }

    /// `btime` of `/proc/stat`: seconds since the epoch.
    static func bootTime(_ host: HostFS) -> Int64 {
        guard let stat = try? host.text(host.proc + "/stat") else { return 0 }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Int64(line.words.last ?? "") ?? 0
        }
        return 0
    }
}

/// `/proc/<pid>/stat` read without building strings: the command name between the first `(` and the last `)` (a
/// name may hold both), then the state and the numeric fields, separated by spaces.
struct ProcStat {
    private let bytes: [UInt8]
    private let open: Int
    private let close: Int

    init?(_ bytes: [UInt8]) {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")), let close = bytes.lastIndex(of: UInt8(ascii: ")")),
              close > open, close + 2 < bytes.count else { return nil }
        self.bytes = bytes
        self.open = open
        self.close = close
    }

    /// The command name (`comm`).
    var name: String { String(decoding: bytes[(open + 1)..<close], as: UTF8.self) }

    /// The state letter (field 3: `R`, `S`, `D`, …).
    var state: UInt8 { bytes[close + 2] }

    /// Fields 4 through `last` (numbered as proc(5) numbers them), parsed as integers; a missing or non-numeric
    /// field reads 0.
    func numbers(through last: Int) -> (Int) -> Int64 {
        var values = [Int64](repeating: 0, count: max(0, last - 3))
        var index = 0
        var value: Int64 = 0
        var negative = false
        var i = close + 3
        // Skip the state, then parse each space-separated field.
        while i < bytes.count, bytes[i] != UInt8(ascii: " ") { i += 1 }
        i += 1
        while i <= bytes.count, index < values.count {
            let byte = i < bytes.count ? bytes[i] : UInt8(ascii: " ")
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
                values[index] = negative ? -value : value
                index += 1
                value = 0
                negative = false
            } else if byte == UInt8(ascii: "-") {
                negative = true
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                value = value &* 10 &+ Int64(byte - UInt8(ascii: "0"))
            }
            i += 1
        }
        return { n in n >= 4 && n - 4 < values.count ? values[n - 4] : 0 }
    }
}

/// Calls `body` with each `key: value` line of a `/proc` file (`status`, `io`), as byte slices, the value untrimmed.
func forEachLine(_ bytes: [UInt8], _ body: (ArraySlice<UInt8>, ArraySlice<UInt8>) -> Void) {
    var start = 0
    while start < bytes.count {
        let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        if let colon = bytes[start..<end].firstIndex(of: UInt8(ascii: ":")) {
            body(bytes[start..<colon], bytes[(colon + 1)..<end])
        }
        start = end + 1
    }
}

extension ArraySlice<UInt8> {
    /// The first run of digits, as a number (`"\t  1024 kB"` reads 1024).
    var firstNumber: Int64? {
        guard let first = firstIndex(where: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        var value: Int64 = 0
        var i = first
        while i < endIndex, self[i] >= UInt8(ascii: "0"), self[i] <= UInt8(ascii: "9") {
            value = value &* 10 &+ Int64(self[i] - UInt8(ascii: "0"))
            i += 1
        }
        return value
    }

    /// Whether the value is a size in `kB`.
    var endsWithKilobytes: Bool {
        var end = endIndex
        while end > startIndex, self[end - 1] == UInt8(ascii: " ") || self[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        return end - startIndex >= 2 && self[end - 2] == UInt8(ascii: "k") && self[end - 1] == UInt8(ascii: "B")
    }
}
