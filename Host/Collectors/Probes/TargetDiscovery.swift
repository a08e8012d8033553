import Foundation
import Yams

/// Where a scraper's targets come from: Kapacitor's `[[static-discovery]]` (a fixed list with labels) and
/// `[[file-discovery]]` (Prometheus' file_sd format: JSON or YAML files, globs allowed, each a list of
/// `{"targets": ["host:port"], "labels": {"k": "v"}}`, re-read when they change).
public struct TargetDiscovery: Sendable, Equatable {
    /// One target and the labels it carries into every sample scraped from it.
    public struct Target: Sendable, Hashable {
        public var address: String
        public var labels: [String: String]

        public init(address: String, labels: [String: String] = [:]) {
            self.address = address
            self.labels = labels
        }
    }

    public var staticTargets: [Target] = []
    /// File patterns (a `*` in the last component matches any name).
    public var files: [String] = []
    /// At most this often the files are checked for changes.
    public var refreshInterval: Duration = .seconds(300)

    public init(staticTargets: [Target] = [], files: [String] = [], refreshInterval: Duration = .seconds(300)) {
        self.staticTargets = staticTargets
        self.files = files
        self.refreshInterval = refreshInterval
    }

    /// The files `patterns` name now.
    static func expand(_ patterns: [String]) -> [String] {
        patterns.flatMap { pattern -> [String] in
            guard pattern.contains("*") || pattern.contains("?") else { return [pattern] }
            let directory = (pattern as NSString).deletingLastPathComponent
            let glob = (pattern as NSString).lastPathComponent
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
            return names.filter { fnmatch(glob, $0, 0) == 0 }.sorted().map { directory.isEmpty ? $0 : "\(directory)/\($0)" }
        }
    }

    /// The targets of one file_sd file.
    static func read(_ path: String) throws(CollectorError) -> [Target] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CollectorError("scraper", "file discovery: cannot read \(path)")
        }
        let groups: Any?
        if path.hasSuffix(".json") {
            groups = try? JSONSerialization.jsonObject(with: data)
        } else {
            groups = try? Yams.load(yaml: String(decoding: data, as: UTF8.self))
        }
        guard let list = groups as? [[String: Any]] else {
            throw CollectorError("scraper", "file discovery: \(path) is not a list of {targets, labels} groups")
        }
        var targets: [Target] = []
        for group in list {
            guard let addresses = group["targets"] as? [String] else {
                throw CollectorError("scraper", "file discovery: \(path): a group without a targets list")
            }
            let labels = (group["labels"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
            targets += addresses.map { Target(address: $0, labels: labels) }
        }
        return targets
    }
}

/// The file-discovered targets of one scraper, re-read when a file changes (checked at most every refresh interval).
struct DiscoveredTargets: Sendable {
    let discovery: TargetDiscovery
    private var checked: ContinuousClock.Instant?
    private var stamps: [String: Date] = [:]
    private var fromFiles: [String: [TargetDiscovery.Target]] = [:]

    init(_ discovery: TargetDiscovery) { self.discovery = discovery }

    /// The targets now: the static ones, then those of the files (a file that cannot be read keeps its last targets
    /// and is reported through `log`).
    mutating func current(log: (String) -> Void) -> [TargetDiscovery.Target] {
        if !discovery.files.isEmpty, checked.map({ ContinuousClock.now - $0 >= discovery.refreshInterval }) ?? true {
            checked = .now
            let paths = TargetDiscovery.expand(discovery.files)
            for path in fromFiles.keys where !paths.contains(path) { fromFiles[path] = nil }
            for path in paths {
                let stamp = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
                guard stamp != stamps[path] || fromFiles[path] == nil else { continue }
                stamps[path] = stamp
                do { fromFiles[path] = try TargetDiscovery.read(path) } catch { log(error.message) }
            }
        }
        return discovery.staticTargets + fromFiles.keys.sorted().flatMap { fromFiles[$0]! }
    }
}
