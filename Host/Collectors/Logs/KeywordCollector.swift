#if canImport(Glibc)
import Glibc
#endif
import TockModel

/// Log keyword counting, as bkmonitorbeat's `keyword` task: follows `files` (paths or globs) like `tail -F` and
/// counts, at each gather, the new lines matching each keyword's regular expression. A file that is rotated (a new
/// inode) or truncated is read again from its start; only complete lines count (a partial last line waits for its
/// newline). At most 16 MiB are read per file per gather; the rest waits for the next one.
///
/// One `log_keyword` point per file and keyword: tags `file`, `keyword`; fields `count` (matching lines since the
/// last gather) and `lines` (all new lines).
///
/// ```toml
/// [[collectors.keyword]]
///   files = ["/var/log/syslog", "/var/log/app/*.log"]
///   keywords = ["error=(?i)error|fatal", "oom=Out of memory"]
/// ```
public struct KeywordCollector: Collector {
    public static let name = "keyword"
    public static let summary = "counts new log lines matching keywords (rotation-safe tail): log_keyword count, lines"
    static let maxReadPerGather = 16 << 20

    let files: [String]
    let keywords: [(name: String, pattern: String)]
    let fromBeginning: Bool
    private var positions: [String: Position] = [:]

    struct Position: Sendable {
        var inode: UInt64
        var offset: Int64
        var partial: [UInt8] = []
    }

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        files = try o.strings("files", default: [])
        guard !files.isEmpty else { throw CollectorError(Self.name, "files is empty: name the log files (or globs) to follow") }
        var keywords: [(String, String)] = []
        for entry in try o.strings("keywords", default: []) {
            guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else {
                throw CollectorError(Self.name, "keyword \"\(entry)\" must be name=regular-expression")
            }
            let pattern = String(entry[entry.index(after: eq)...])
            do { _ = try Regex(pattern) } catch {
                throw CollectorError(Self.name, "keyword \(entry[..<eq]): \"\(pattern)\" is not a regular expression")
            }
            keywords.append((String(entry[..<eq]), pattern))
        }
        guard !keywords.isEmpty else { throw CollectorError(Self.name, "keywords is empty: give name=regular-expression pairs") }
        self.keywords = keywords
        fromBeginning = try o.bool("from_beginning", default: false)
        try o.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let regexes = keywords.compactMap { k in (try? Regex(k.pattern)).map { (k.name, $0) } }
        var points: [Point] = []
        var seen = Set<String>()
        for path in files.flatMap(Self.expand) where seen.insert(path).inserted {
            guard let lines = readNewLines(path, context: context) else { continue }
            for (name, regex) in regexes {
                let count = lines.reduce(0) { $0 + ((try? regex.firstMatch(in: $1)) != nil ? 1 : 0) }
                points.append(Point(name: "log_keyword", tags: Tags(["file": path, "keyword": name]), fields: Fields([
                    ("count", .int(Int64(count))), ("lines", .int(Int64(lines.count))),
                ]), time: context.time))
            }
        }
        positions = positions.filter { seen.contains($0.key) }
        return points
    }

    /// The complete lines added to `path` since the last gather; `nil` when it cannot be read. The first time a
    /// file is seen it is read from its end (or its start with `from_beginning`).
    mutating func readNewLines(_ path: String, context: GatherContext) -> [String]? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            context.logger.debug("keyword: cannot stat \(path)")
            return nil
        }
        let inode = UInt64(info.st_ino), size = Int64(info.st_size)
        var position = positions[path] ?? Position(inode: inode, offset: fromBeginning ? 0 : size)
        if position.inode != inode || size < position.offset {
            // Rotated (a new file at the path) or truncated: what is there now is new.
            position = Position(inode: inode, offset: 0)
        }
        guard size > position.offset else {
            positions[path] = position
            return []
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            context.logger.warning("keyword: cannot open \(path): \(String(cString: strerror(errno)))")
            return nil
        }
        defer { close(fd) }
        let count = Int(min(size - position.offset, Int64(Self.maxReadPerGather)))
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(position.offset)) }
        guard n > 0 else { return [] }
        position.offset += Int64(n)
        var bytes = position.partial + buffer[0..<n]
        var lines: [String] = []
        if let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) {
            lines = bytes[..<lastNewline].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            bytes = Array(bytes[(lastNewline + 1)...])
        }
        // A line without its newline yet waits, bounded (a file with no newlines at all is cut into pieces).
        position.partial = bytes.count > Self.maxReadPerGather ? [] : bytes
        positions[path] = position
        return lines
    }

    /// The files a path or glob names now.
    static func expand(_ pattern: String) -> [String] {
        guard pattern.contains(where: { "*?[".contains($0) }) else { return [pattern] }
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    }
}
