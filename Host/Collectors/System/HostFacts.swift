#if canImport(Glibc)
import Glibc
#endif
import TockModel

/// Static facts about the host, as bkmonitorbeat's `static` task reports them and the host inventory keeps them:
/// OS (`/etc/os-release`), kernel, CPU model and count, memory, boot time, machine ID and the host's addresses
/// (IPv4 from `/proc/net/fib_trie`, IPv6 from `/proc/net/if_inet6`; loopback and link-local left out). One point,
/// `host_facts`, with string and integer fields.
///
/// Each fact is read only as often as it can change: the kernel, CPU model and count and boot time once (they change
/// with a reboot, which restarts the collector; Telegraf's `n_cpus` is also counted once, at start), the OS and the
/// machine ID when their file's modification time changes, memory and addresses at every gather.
public struct HostFactsCollector: Collector {
    public static let name = "host_facts"
    public static let summary = "static facts: os, kernel, cpu_model, n_cpus, mem_total, boot_time, machine_id, ipv4, ipv6"

    /// The facts that last until a reboot, from the first gather.
    private var bootFacts: [(String, FieldValue)]?
    /// os-release's and machine-id's fields, with the modification time they were read at.
    private var osFacts: (modified: [Int64?], fields: [(String, FieldValue)])?

    public init(options: CollectorOptions) throws(CollectorError) {
        try options.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let host = context.host
        var fields: [(String, FieldValue)] = [("hostname", .string(HostFS.hostname))]
        let modified = [host.modified(host.etc + "/os-release"), host.modified(host.etc + "/machine-id")]
        if osFacts == nil || osFacts?.modified != modified {
            osFacts = (modified, Self.osFields(context))
        }
        let boot = bootFacts ?? Self.bootFields(host)
        bootFacts = boot
        let os = osFacts?.fields ?? []
        fields += os.filter { $0.0 != "machine_id" } + boot
        if let meminfo = try? host.text(host.proc + "/meminfo") { fields.append(("mem_total", .int(MemInfo(meminfo)["MemTotal"]))) }
        fields += os.filter { $0.0 == "machine_id" }
        let v4 = Self.ipv4(host), v6 = Self.ipv6(host)
        if !v4.isEmpty { fields.append(("ipv4", .string(v4.joined(separator: ",")))) }
        if !v6.isEmpty { fields.append(("ipv6", .string(v6.joined(separator: ",")))) }
        return [Point(name: "host_facts", fields: Fields(fields), time: context.time)]
    }

    /// The OS from `/etc/os-release` and the machine ID.
    static func osFields(_ context: GatherContext) -> [(String, FieldValue)] {
        let host = context.host
        var fields: [(String, FieldValue)] = []
        if let release = try? host.text(host.etc + "/os-release") {
            let values = Self.keyValues(release)
            if let name = values["PRETTY_NAME"] { fields.append(("os", .string(name))) }
            if let id = values["ID"] { fields.append(("os_id", .string(id))) }
            if let version = values["VERSION_ID"] { fields.append(("os_version", .string(version))) }
        } else {
            context.logger.debug("host_facts: cannot read \(host.etc)/os-release")
        }
        if let id = try? host.text(host.etc + "/machine-id") { fields.append(("machine_id", .string(id.trimmingCharacters(in: "\n ")))) }
        return fields
    }

    /// The kernel, the CPU model and count, and the boot time.
    static func bootFields(_ host: HostFS) -> [(String, FieldValue)] {
        var fields: [(String, FieldValue)] = []
        if let kernel = try? host.text(host.proc + "/sys/kernel/osrelease") {
            fields.append(("kernel", .string(kernel.trimmingCharacters(in: "\n "))))
        }
        if let info = try? host.text(host.proc + "/cpuinfo") {
            let models = info.split(separator: "\n").filter { $0.hasPrefix("model name") }
            if let model = models.first?.split(separator: ":", maxSplits: 1).last { fields.append(("cpu_model", .string(model.trimmingSpaces))) }
        }
        let stat = (try? host.text(host.proc + "/stat")) ?? ""
        fields.append(("n_cpus", .int(Int64(stat.split(separator: "\n").filter { $0.hasPrefix("cpu") && !$0.hasPrefix("cpu ") }.count))))
        if let btime = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") })?.words.last.flatMap({ Int64($0) }) {
            fields.append(("boot_time", .int(btime)))
        }
        return fields
    }

    /// `KEY=value` or `KEY="value"` lines.
    static func keyValues(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: eq)...])
            if value.count >= 2, value.first == "\"" || value.first == "'", value.last == value.first {
                value = String(value.dropFirst().dropLast())
            }
            values[String(line[..<eq])] = value
        }
        return values
    }

    /// The host's own IPv4 addresses: `/proc/net/fib_trie`'s leaves marked `/32 host LOCAL`, without 127/8.
    static func ipv4(_ host: HostFS) -> [String] {
        guard let trie = try? host.text(host.proc + "/net/fib_trie") else { return [] }
        var found: [String] = []
        var last: String?
        for line in trie.split(separator: "\n") {
            let words = line.words
            if words.count == 2, words[0] == "|--" { last = String(words[1]); continue }
            if line.contains("/32 host LOCAL"), let address = last, !address.hasPrefix("127."), !found.contains(address) {
                found.append(address)
            }
        }
        return found
    }

    /// The host's IPv6 addresses from `/proc/net/if_inet6` (32 hex digits each), global scope only.
    static func ipv6(_ host: HostFS) -> [String] {
        guard let table = try? host.text(host.proc + "/net/if_inet6") else { return [] }
        var found: [String] = []
        for line in table.split(separator: "\n") {
            let words = line.words
            guard words.count >= 6, words[0].count == 32, words[3] == "00" else { continue }
            let hex = Array(words[0])
            var bytes = stride(from: 0, to: 32, by: 2).map { UInt8(String(hex[$0..<($0 + 2)]), radix: 16) ?? 0 }
            // inet_ntop writes the canonical form (`2001:db8::1`).
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &bytes, &text, socklen_t(text.count)) != nil else { continue }
            found.append(String(cString: text))
        }
        return found
    }
}
