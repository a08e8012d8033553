import PluginSupervisor
import TOMLKit
import TockModel

/// Reads `[[collectors.NAME]]` sections: each a collector with its schedule (`interval`, `jitter`, `timeout`,
/// `gather-timeout`), its destination (`database`, `retention-policy`), extra `tags`, and its plugin's options. An
/// unknown collector, an unknown option or a value of the wrong type is refused with the file and the section's line.
///
/// `timeout` means what it means in Telegraf: for a collector that has a `timeout` option of its own (the probes
/// `net_response`, `ping`, `dns_query`, `x509_cert`, and `exec`), it is that option; the gather's bound is then
/// `gather-timeout`, or derived from the collector's options (see ``Collector/gatherBound``). For the others,
/// `timeout` is the gather's bound, as `gather-timeout` is.
///
/// In every string option (and a plugin's `prog`, `args` and `env`), `${TOCK_CONFIG_DIR}` stands for the directory
/// of the configuration file, as in UDF and notifier sections.
public enum CollectorsSection {
    /// The sections of `text` (a TOML document), in file order per collector name.
    public static func parse(_ text: String, file: String) throws(CollectorSectionError) -> [CollectorConfig] {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw CollectorSectionError("\(file):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        } catch {
            throw CollectorSectionError("\(file): \(error)")
        }
        guard let value = table["collectors"] else { return [] }
        return try parse(value, text: text, file: file)
    }

    /// The `[[collectors.NAME]]` sections and Kapacitor's `[[scraper]]` sections of `text`: what the daemon runs.
    public static func parseWithScrapers(_ text: String, file: String) throws(CollectorSectionError) -> [CollectorConfig] {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw CollectorSectionError("\(file):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        } catch {
            throw CollectorSectionError("\(file): \(error)")
        }
        let collectors = try table["collectors"].map { value throws(CollectorSectionError) in try parse(value, text: text, file: file) } ?? []
        return collectors + (try ScraperSection.parse(table, text: text, file: file))
    }

    /// The `collectors` value of an already parsed document.
    public static func parse(_ value: any TOMLValueConvertible, text: String, file: String) throws(CollectorSectionError) -> [CollectorConfig] {
        guard let collectors = value.table else {
            throw CollectorSectionError("\(file): collectors must be sections ([[collectors.cpu]])")
        }
        var configs: [CollectorConfig] = []
        let directory = ConfigDirectory.of(file: file)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for name in collectors.keys.sorted(by: { line(of: $0, 0, lines) < line(of: $1, 0, lines) }) {
            let entry = collectors[name]!
            let tables: [TOMLTable]
            if let array = entry.array {
                tables = array.compactMap { $0.table }
            } else if let single = entry.table {
                tables = [single]
            } else {
                throw CollectorSectionError("\(file): collectors.\(name) must be a section ([[collectors.\(name)]])")
            }
            for (index, section) in tables.enumerated() {
                let at = "\(file):\(line(of: name, index, lines)): [[collectors.\(name)]]"
                configs.append(try config(name, section, at: at, directory: directory))
            }
        }
        return configs
    }

    /// One section; `directory` is what `${TOCK_CONFIG_DIR}` stands for.
    static func config(_ name: String, _ section: TOMLTable, at: String, directory: String) throws(CollectorSectionError) -> CollectorConfig {
        var values: [String: CollectorOptions.Value] = [:]
        var config = CollectorConfig(name: name)
        var plugin: CollectorPluginConfiguration?
        let expand = { (text: String) in ConfigDirectory.expand(text, directory: directory) }
        if let prog = section["prog"] {
            guard let program = prog.string, !program.isEmpty else { throw CollectorSectionError("\(at): prog must be a program's path") }
            plugin = CollectorPluginConfiguration(name: name, program: expand(program))
        }
        let ownsTimeout = plugin == nil && CollectorRegistry.type(named: name)?.ownsTimeoutOption == true
        // Whether the section bounds its gathers itself (else the bound is derived from the collector's options).
        var bounded = false
        for key in section.keys.sorted() {
            let value = section[key]!
            if var p = plugin, !CollectorConfig.commonKeys.contains(key) {
                switch key {
                case "prog": continue
                case "args":
                    guard let list = value.array?.map({ $0.string }), !list.contains(nil) else {
                        throw CollectorSectionError("\(at): args must be a list of strings")
                    }
                    p.arguments = list.map { expand($0!) }
                case "env":
                    guard let env = value.table else { throw CollectorSectionError("\(at): env must be a table ({ KEY = \"value\" })") }
                    for k in env.keys { p.environment[k] = expand(env[k]!.string ?? ConfigurationText.text(env[k]!)) }
                case "plugin-timeout":
                    guard let text = value.string, let ns = GoDuration.parse(text), ns > 0 else {
                        throw CollectorSectionError("\(at): plugin-timeout must be a duration such as \"10s\"")
                    }
                    p.timeout = ns
                default:
                    // The plugin's own options: checked against its handshake when it starts.
                    guard let option = pluginOption(value, expand) else {
                        throw CollectorSectionError("\(at): option \(key) has a value Tock cannot send to a plugin")
                    }
                    p.options[key] = option
                }
                plugin = p
                continue
            }
            if key == "timeout" && ownsTimeout {
                // Telegraf's meaning: the collector's own option, read (and checked) by the collector.
                values[key] = try optionValue(value, key, at: at, expand)
                continue
            }
            switch key {
            case "interval", "jitter", "timeout", "gather-timeout":
                guard let text = value.string, let ns = GoDuration.parse(text), ns >= 0 else {
                    throw CollectorSectionError("\(at): \(key) must be a duration such as \"10s\"")
                }
                let duration = Duration.nanoseconds(ns)
                if key == "interval" {
                    guard ns > 0 else { throw CollectorSectionError("\(at): interval must be more than 0") }
                    config.interval = duration
                } else if key == "jitter" {
                    config.jitter = duration
                } else {
                    guard ns > 0 else { throw CollectorSectionError("\(at): \(key) must be more than 0") }
                    // gather-timeout wins over a timeout that is the bound too.
                    if key == "gather-timeout" || section["gather-timeout"] == nil { config.timeout = duration }
                    bounded = true
                }
            case "tags":
                guard let tags = value.table else { throw CollectorSectionError("\(at): tags must be a table ({ dc = \"par1\" })") }
                for tag in tags.keys { config.tags[tag] = tags[tag]!.string ?? ConfigurationText.text(tags[tag]!) }
            case "database": config.database = value.string ?? ""
            case "retention-policy", "retention_policy": config.retentionPolicy = value.string ?? ""
            default:
                values[key] = try optionValue(value, key, at: at, expand)
            }
        }
        config.options = CollectorOptions(collector: name, values)
        if let plugin {
            config.plugin = plugin
            return config
        }
        // Builds it once, so that a bad option is refused here, with the file and line.
        let instance: CollectorInstance
        do { instance = try CollectorRegistry.instance(name, options: config.options) } catch {
            throw CollectorSectionError("\(at): \(error.message)")
        }
        if !bounded, case .polled(let collector) = instance, let bound = collector.gatherBound {
            config.timeout = max(CollectorConfig.defaultTimeout, bound + CollectorConfig.gatherMargin)
        }
        return config
    }

    /// A built-in collector's option, its strings with `${TOCK_CONFIG_DIR}` expanded.
    static func optionValue(_ value: any TOMLValueConvertible, _ key: String, at: String,
                            _ expand: (String) -> String) throws(CollectorSectionError) -> CollectorOptions.Value {
        if let b = value.bool { return .bool(b) }
        if let i = value.int { return .int(Int64(i)) }
        if let d = value.double { return .double(d) }
        if let s = value.string { return .string(expand(s)) }
        if let array = value.array { return .strings(array.map { $0.string.map(expand) ?? ConfigurationText.text($0) }) }
        throw CollectorSectionError("\(at): option \(key) has a value Tock cannot read (a table?)")
    }

    /// A plugin's option as the plugin protocol carries it, its strings with `${TOCK_CONFIG_DIR}` expanded.
    static func pluginOption(_ value: any TOMLValueConvertible, _ expand: (String) -> String) -> HandlerOption? {
        if let b = value.bool { return .bool(b) }
        if let i = value.int { return .int(Int64(i)) }
        if let d = value.double { return .float(d) }
        if let s = value.string { return .string(expand(s)) }
        if let array = value.array {
            let items = array.compactMap { pluginOption($0, expand) }
            return items.count == array.count ? .list(items) : nil
        }
        if let table = value.table {
            var object: [String: HandlerOption] = [:]
            for key in table.keys {
                guard let v = pluginOption(table[key]!, expand) else { return nil }
                object[key] = v
            }
            return .object(object)
        }
        return nil
    }

    /// The 1-based line of the `index`-th `[[collectors.NAME]]` header (0 when not found).
    static func line(of name: String, _ index: Int, _ lines: [Substring]) -> Int {
        var seen = 0
        for (i, line) in lines.enumerated() {
            let compact = line.filter { $0 != " " && $0 != "\t" }
            if compact.hasPrefix("[[collectors.\(name)]]") || compact.hasPrefix("[collectors.\(name)]") {
                if seen == index { return i + 1 }
                seen += 1
            }
        }
        return 0
    }
}

/// A `[[collectors.NAME]]` or `[[scraper]]` section that cannot run, naming the file, the line and the setting.
public struct CollectorSectionError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, starting with the file and line (`agent.conf:12: [[collectors.ping]]: …`).
    public var description: String
    /// A problem described by `description`.
    public init(_ description: String) { self.description = description }
}

/// TOML values as text, for error messages and string-typed settings.
public enum ConfigurationText {
    public static func text(_ value: any TOMLValueConvertible) -> String {
        if let s = value.string { return s }
        if let b = value.bool { return b ? "true" : "false" }
        if let i = value.int { return String(i) }
        if let d = value.double { return String(d) }
        return "\(value)"
    }
}
