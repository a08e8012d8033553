import TOMLKit
import TockModel

/// Reads Kapacitor's `[[scraper]]` sections with their `[[static-discovery]]` and `[[file-discovery]]` sections:
/// each enabled scraper, paired with the discoverer its `discoverer-service` and `discoverer-id` name, becomes a
/// ``KapacitorScraperCollector`` gathering every `scrape-interval` into its `db`.`rp` (no `host` tag is added:
/// Kapacitor adds none). Kapacitor's other discoverers (consul, ec2, kubernetes…) are refused with the line, as are
/// scraper keys Tock does not act on.
public enum ScraperSection {
    /// The sections Kapacitor reads for scraping.
    public static let sectionNames: Set<String> = ["scraper", "static-discovery", "file-discovery"]
    /// Kapacitor's discoverers that Tock does not have.
    static let otherDiscoverers: Set<String> = ["azure", "consul", "dns", "ec2", "gce", "marathon", "nerve", "serverset", "triton", "kubernetes", "swarm"]

    static let scraperKeys: Set<String> = [
        "enabled", "name", "db", "rp", "type", "scheme", "metrics-path", "params", "scrape-interval", "scrape-timeout",
        "username", "password", "bearer-token", "ssl-ca", "insecure-skip-verify", "discoverer-id", "discoverer-service",
        "blacklist",
    ]
    /// Kapacitor's keys that Tock refuses when set (rather than ignore silently).
    static let unsupportedKeys: Set<String> = ["ssl-cert", "ssl-key", "ssl-server-name", "proxy-url"]

    /// The scrapers of a parsed document.
    public static func parse(_ table: TOMLTable, text: String, file: String) throws(CollectorSectionError) -> [CollectorConfig] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func line(_ header: String, _ index: Int) -> Int {
            var seen = -1
            for (number, line) in lines.enumerated() where line.trimmingPrefix(while: \.isWhitespace).hasPrefix("[[\(header)]]") {
                seen += 1
                if seen == index { return number + 1 }
            }
            return 0
        }
        func sections(_ name: String) throws(CollectorSectionError) -> [(table: TOMLTable, at: String)] {
            guard let value = table[name] else { return [] }
            let tables: [TOMLTable]
            if let array = value.array { tables = array.compactMap(\.table) } else if let single = value.table { tables = [single] } else {
                throw CollectorSectionError("\(file): \(name) must be sections ([[\(name)]])")
            }
            return tables.enumerated().map { ($1, "\(file):\(line(name, $0)): [[\(name)]]") }
        }
        var statics: [String: (targets: [String], labels: [String])] = [:]
        for (section, _) in try sections("static-discovery") where section["enabled"]?.bool ?? false {
            let id = section["id"]?.string ?? ""
            let labels = section["labels"]?.table.map { t in t.keys.sorted().map { "\($0)=\(Self.text(t[$0]!))" } } ?? []
            statics[id] = (section["targets"]?.array?.compactMap(\.string) ?? [], labels)
        }
        var files: [String: (files: [String], refresh: String)] = [:]
        for (section, _) in try sections("file-discovery") where section["enabled"]?.bool ?? false {
            let id = section["id"]?.string ?? ""
            files[id] = (section["files"]?.array?.compactMap(\.string) ?? [], section["refresh-interval"]?.string ?? "5m")
        }
        var configs: [CollectorConfig] = []
        for (section, at) in try sections("scraper") {
            for key in section.keys.sorted() where !scraperKeys.contains(key) {
                if unsupportedKeys.contains(key) {
                    let value = section[key]!
                    if value.string?.isEmpty ?? false { continue }
                    throw CollectorSectionError("\(at): \(key) is not supported by Tock's scraper (client certificates, server-name override and proxies are not built)")
                }
                throw CollectorSectionError("\(at): unknown key \"\(key)\"")
            }
            guard section["enabled"]?.bool ?? false else { continue }
            let name = section["name"]?.string ?? ""
            let db = section["db"]?.string ?? ""
            let rp = section["rp"]?.string ?? ""
            guard !name.isEmpty else { throw CollectorSectionError("\(at): scraper config must be given a name") }
            guard !db.isEmpty else { throw CollectorSectionError("\(at): scraper config must be given a db") }
            guard !rp.isEmpty else { throw CollectorSectionError("\(at): scraper config must be given an rp") }
            if let type = section["type"]?.string, !type.isEmpty, type != "prometheus" {
                throw CollectorSectionError("\(at): type \"\(type)\" is not a scraper type (prometheus)")
            }
            let service = section["discoverer-service"]?.string ?? ""
            let id = section["discoverer-id"]?.string ?? ""
            var options: [String: CollectorOptions.Value] = [:]
            switch service {
            case "static-discovery":
                guard let found = statics[id] else {
                    throw CollectorSectionError("\(at): no enabled [[static-discovery]] with id \"\(id)\"")
                }
                options["targets"] = .strings(found.targets)
                options["labels"] = .strings(found.labels)
            case "file-discovery":
                guard let found = files[id] else {
                    throw CollectorSectionError("\(at): no enabled [[file-discovery]] with id \"\(id)\"")
                }
                options["files"] = .strings(found.files)
                options["refresh_interval"] = .string(found.refresh)
            case let other where otherDiscoverers.contains(other):
                throw CollectorSectionError("\(at): discoverer-service \"\(other)\" is not built in Tock (static-discovery and file-discovery are)")
            default:
                throw CollectorSectionError("\(at): discoverer-service must be static-discovery or file-discovery, not \"\(service)\"")
            }
            for (key, option) in [("scheme", "scheme"), ("metrics-path", "metrics_path"), ("username", "username"),
                                  ("password", "password"), ("bearer-token", "bearer_token"), ("ssl-ca", "ssl_ca")] {
                if let value = section[key]?.string, !value.isEmpty { options[option] = .string(value) }
            }
            if let insecure = section["insecure-skip-verify"]?.bool { options["insecure_skip_verify"] = .bool(insecure) }
            if let blacklist = section["blacklist"]?.array { options["blacklist"] = .strings(blacklist.compactMap(\.string)) }
            if let params = section["params"]?.table {
                options["params"] = .strings(params.keys.sorted().flatMap { key in
                    (params[key]!.array?.compactMap(\.string) ?? [params[key]!.string ?? ""]).map { "\(key)=\($0)" }
                })
            }
            let timeout = try duration(section["scrape-timeout"]?.string ?? "10s", "scrape-timeout", at)
            options["timeout"] = .string("\(timeout)ns")
            var config = CollectorConfig(name: KapacitorScraperCollector.name, options: CollectorOptions(collector: "scraper \(name)", options))
            config.interval = .nanoseconds(try duration(section["scrape-interval"]?.string ?? "1m", "scrape-interval", at))
            // The gather scrapes every target in turn; each is bounded by scrape-timeout.
            config.timeout = .nanoseconds(timeout) * max(1, 1 + (options["targets"].map { if case .strings(let t) = $0 { t.count } else { 1 } } ?? 1))
            config.database = db
            config.retentionPolicy = rp
            config.hostTagged = false
            do { _ = try KapacitorScraperCollector(options: config.options) } catch {
                throw CollectorSectionError("\(at): \(error.message)")
            }
            configs.append(config)
        }
        return configs
    }

    static func text(_ value: any TOMLValueConvertible) -> String {
        value.string ?? value.int.map(String.init) ?? value.bool.map(String.init) ?? value.double.map { String($0) } ?? ""
    }

    static func duration(_ text: String, _ key: String, _ at: String) throws(CollectorSectionError) -> Int64 {
        guard let ns = GoDuration.parse(text), ns > 0 else { throw CollectorSectionError("\(at): \(key) \"\(text)\" is not a duration") }
        return ns
    }
}
