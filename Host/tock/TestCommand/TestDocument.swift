import Foundation
import TOMLKit
import Yams

/// A test file's content as a tree whose every node knows where it was written, so that a problem is reported as
/// `FILE:LINE:COLUMN: cases[0].expect.alerts[1].level: …`. YAML keeps line and column (Yams' marks); TOML,
/// whose parser keeps no positions for values, reports the key path alone.
indirect enum TestNode {
    case scalar(String, quoted: Bool, at: TestLocation)
    /// A mapping's pairs, with where each key is written.
    case map([(key: String, value: TestNode)], at: TestLocation, keys: [TestLocation])
    case list([TestNode], at: TestLocation)

    var location: TestLocation {
        switch self {
        case .scalar(_, _, let at), .map(_, let at, _), .list(_, let at): at
        }
    }
}

/// Where a node of a test file is: the file, a line and column when the format keeps them, and the key path.
struct TestLocation: Sendable, CustomStringConvertible {
    var file: String
    var line: Int?
    var column: Int?
    var path: String

    var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let column { s += ":\(column)" }
        return path.isEmpty ? s : "\(s): \(path)"
    }

    func appending(_ key: String) -> TestLocation {
        var l = self
        l.path = path.isEmpty ? key : (key.hasPrefix("[") ? path + key : "\(path).\(key)")
        return l
    }
}

/// A malformed test file: where, and what is wrong.
struct TestFileError: Error, CustomStringConvertible {
    var description: String
    init(_ location: TestLocation, _ message: String) { description = "\(location): \(message)" }
    init(_ message: String) { description = message }
}

extension TestNode {
    /// Reads a YAML (`.yaml`, `.yml`) or TOML (`.toml`) test file.
    static func read(path: String) throws(TestFileError) -> TestNode {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TestFileError("cannot read the test file \(path): \(error.localizedDescription)")
        }
        if path.hasSuffix(".toml") { return try fromTOML(text, file: path) }
        return try fromYAML(text, file: path)
    }

    static func fromYAML(_ text: String, file: String) throws(TestFileError) -> TestNode {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw TestFileError("\(file):\(yamlProblem(e))")
        } catch {
            throw TestFileError("\(file): not valid YAML: \(error)")
        }
        guard let root else { throw TestFileError("\(file): the test file is empty") }
        return try convert(root, location: TestLocation(file: file, path: ""))
    }

    private static func yamlProblem(_ e: YamlError) -> String {
        func at(_ mark: Mark, _ context: YamlError.Context?, _ problem: String) -> String {
            "\(mark.line):\(mark.column): not valid YAML: \(context.map { "\($0.text) " } ?? "")\(problem)"
        }
        switch e {
        case .scanner(let context, let problem, let mark, _): return at(mark, context, problem)
        case .parser(let context, let problem, let mark, _): return at(mark, context, problem)
        case .composer(let context, let problem, let mark, _): return at(mark, context, problem)
        default: return " not valid YAML: \(e)"
        }
    }

    private static func convert(_ node: Node, location: TestLocation) throws(TestFileError) -> TestNode {
        var here = location
        if let mark = node.mark {
            here.line = mark.line
            here.column = mark.column
        }
        switch node {
        case .scalar(let s):
            return .scalar(s.string, quoted: s.style != .plain && s.style != .any, at: here)
        case .mapping(let m):
            var pairs: [(key: String, value: TestNode)] = []
            var keys: [TestLocation] = []
            for (k, v) in m {
                guard case .scalar(let key) = k else { throw TestFileError(here, "a key must be a plain name") }
                var at = here.appending(key.string)
                at.line = k.mark?.line ?? at.line
                at.column = k.mark?.column ?? at.column
                keys.append(at)
                pairs.append((key.string, try convert(v, location: here.appending(key.string))))
            }
            return .map(pairs, at: here, keys: keys)
        case .sequence(let s):
            var items: [TestNode] = []
            for (i, v) in s.enumerated() { items.append(try convert(v, location: here.appending("[\(i)]"))) }
            return .list(items, at: here)
        case .alias:
            throw TestFileError(here, "YAML aliases are not supported in test files")
        }
    }

    static func fromTOML(_ text: String, file: String) throws(TestFileError) -> TestNode {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw TestFileError("\(file):\(error.source.begin.line):\(error.source.begin.column): not valid TOML: \(error.description)")
        } catch {
            throw TestFileError("\(file): not valid TOML: \(error)")
        }
        return convert(table, location: TestLocation(file: file, path: ""))
    }

    private static func convert(_ value: any TOMLValueConvertible, location: TestLocation) -> TestNode {
        if let table = value.table {
            let keys = table.keys.sorted()
            return .map(keys.map { ($0, convert(table[$0]!, location: location.appending($0))) }, at: location,
                        keys: keys.map { location.appending($0) })
        }
        if let array = value.array {
            return .list(array.enumerated().map { convert($1, location: location.appending("[\($0)]")) }, at: location)
        }
        if let s = value.string { return .scalar(s, quoted: true, at: location) }
        if let b = value.bool { return .scalar(b ? "true" : "false", quoted: false, at: location) }
        if let i = value.int { return .scalar(String(i), quoted: false, at: location) }
        if let d = value.double { return .scalar(String(d), quoted: false, at: location) }
        return .scalar("\(value)", quoted: true, at: location)
    }
}

// MARK: - Reading values

extension TestNode {
    /// The pairs of a mapping; anything else is an error naming what was expected.
    func mapping(_ what: String) throws(TestFileError) -> [(key: String, value: TestNode)] {
        guard case .map(let pairs, _, _) = self else { throw TestFileError(location, "expected \(what) (a mapping)") }
        return pairs
    }

    /// The items of a list (a single item not written as a list is taken as a list of one).
    func items() -> [TestNode] {
        if case .list(let items, _) = self { return items }
        return [self]
    }

    func string() throws(TestFileError) -> String {
        guard case .scalar(let s, _, _) = self else { throw TestFileError(location, "expected a string") }
        return s
    }

    func double() throws(TestFileError) -> Double {
        guard case .scalar(let s, _, _) = self, let d = Double(s) else { throw TestFileError(location, "expected a number") }
        return d
    }

    func int() throws(TestFileError) -> Int {
        guard case .scalar(let s, _, _) = self, let i = Int(s) else { throw TestFileError(location, "expected an integer") }
        return i
    }

    /// A scalar as a value: numbers and `true`/`false` when written plain, strings otherwise.
    func value() throws(TestFileError) -> TestValue {
        switch self {
        case .scalar(let s, let quoted, _):
            if !quoted {
                if s == "true" { return .bool(true) }
                if s == "false" { return .bool(false) }
                if s == "null" || s == "~" { return .null }
                if let d = Double(s) { return .number(d) }
            }
            return .string(s)
        case .list(let items, _):
            var values: [TestValue] = []
            for item in items { values.append(try item.value()) }
            return .list(values)
        case .map:
            throw TestFileError(location, "expected a value (number, string, boolean or null)")
        }
    }
}

/// Reads the keys of a mapping, refusing unknown ones (a misspelt expectation must not pass silently).
struct TestKeys {
    private var pairs: [(key: String, value: TestNode)]
    private var keyLocations: [TestLocation] = []
    let location: TestLocation
    private var used: Set<String> = []

    init(_ node: TestNode, _ what: String) throws(TestFileError) {
        pairs = try node.mapping(what)
        if case .map(_, _, let keys) = node { keyLocations = keys }
        location = node.location
    }

    mutating func optional(_ key: String) -> TestNode? {
        used.insert(key)
        return pairs.first { $0.key == key }?.value
    }

    mutating func required(_ key: String) throws(TestFileError) -> TestNode {
        guard let v = optional(key) else { throw TestFileError(location, "missing \"\(key)\"") }
        return v
    }

    /// Fails on the first key that was not asked for.
    func finish() throws(TestFileError) {
        for (i, pair) in pairs.enumerated() where !used.contains(pair.key) {
            let key = pair.key
            throw TestFileError(i < keyLocations.count ? keyLocations[i] : pair.value.location, "unknown key \"\(key)\" (expected one of: \(used.sorted().joined(separator: ", ")))")
        }
    }
}
