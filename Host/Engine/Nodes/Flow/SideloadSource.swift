import Foundation
import Synchronization
import Yams

/// A value read from a sideload file, typed as Kapacitor sees it: its YAML and JSON both go through Go's JSON
/// decoding, so every number is a float64.
enum SideloadValue: Sendable, Hashable {
    case number(Double)
    case string(String)
    case bool(Bool)
    /// A list, an object or null: no field or tag can take it. Holds Go's type name for the log line.
    case other(String)
}

/// Why a sideload source could not be read: names the directory and the file, and the line when a parser gave one.
public struct SideloadError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One `file://` directory of a `sideload()` node: every file under it read into a cache keyed by its path relative
/// to the directory (`host/h1.yml`), as Kapacitor's sideload service does. `.yml`/`.yaml` files are YAML, `.json`
/// files JSON, each an object of keys to values; files with other extensions are read as empty.
///
/// Sources are shared by directory (``SideloadSources``) and read again by ``reload()``: the
/// `POST /kapacitor/v1/sideload/reload` API.
public final class SideloadSource: Sendable {
    public let directory: String
    private let cache: Mutex<[String: [String: SideloadValue]]>

    /// Reads `directory` (absolute) now; throws a ``SideloadError`` when it is missing or a file is malformed.
    init(directory: String) throws(SideloadError) {
        self.directory = directory
        cache = Mutex(try Self.read(directory))
    }

    /// Reads the directory again; on error the previous contents stay.
    public func reload() throws(SideloadError) {
        let fresh = try Self.read(directory)
        cache.withLock { $0 = fresh }
    }

    /// The first value of `key` in the files named by `order`, in order.
    func lookup(_ order: [String], _ key: String) -> SideloadValue? {
        cache.withLock { cache in
            for path in order {
                if let v = cache[path]?[key] { return v }
            }
            return nil
        }
    }

    /// The longest file Tock reads (a sideload file is a small table of values).
    static let maximumFileBytes = 16 << 20
    /// The most files a source directory may hold (each is cached in memory).
    static let maximumFiles = 100_000

    static func read(_ directory: String) throws(SideloadError) -> [String: [String: SideloadValue]] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw SideloadError("failed to update sideload cache for source file \"\(directory)\": no such file or directory")
        }
        guard isDirectory.boolValue else {
            throw SideloadError("failed to update sideload cache for source file \"\(directory)\": not a directory")
        }
        guard let walker = fm.enumerator(atPath: directory) else {
            throw SideloadError("failed to update sideload cache for source file \"\(directory)\": cannot list it")
        }
        var cache: [String: [String: SideloadValue]] = [:]
        while let relative = walker.nextObject() as? String {
            let path = directory + "/" + relative
            var sub: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &sub), !sub.boolValue else { continue }
            guard cache.count < maximumFiles else {
                throw SideloadError("sideload source \"\(directory)\" holds more than \(maximumFiles) files")
            }
            cache[relative] = try readValues(path)
        }
        return cache
    }

    static func readValues(_ path: String) throws(SideloadError) -> [String: SideloadValue] {
        let ext = (path as NSString).pathExtension
        guard ["yml", "yaml", "json"].contains(ext) else { return [:] }
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? Int, size > maximumFileBytes {
                throw SideloadError("sideload values file \"\(path)\" is larger than \(maximumFileBytes) bytes")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let e as SideloadError {
            throw e
        } catch {
            throw SideloadError("failed to read values file \"\(path)\": \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SideloadError("failed to read values file \"\(path)\": it is not UTF-8")
        }
        let object: Any?
        if ext == "json" {
            do {
                object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            } catch {
                throw SideloadError("failed to unmarshal json values \"\(path)\": \(jsonProblem(error, in: text))")
            }
        } else {
            do {
                object = try Yams.load(yaml: text)
            } catch let e as YamlError {
                throw SideloadError("failed to unmarshal yaml values \"\(path)\": \(yamlProblem(e))")
            } catch {
                throw SideloadError("failed to unmarshal yaml values \"\(path)\": \(error)")
            }
        }
        if object == nil || object is NSNull { return [:] }
        guard let map = object as? [AnyHashable: Any] else {
            throw SideloadError("failed to unmarshal \(ext == "json" ? "json" : "yaml") values \"\(path)\": line 1: "
                + "the file must hold an object of keys to values, not \(goTypeName(object!))")
        }
        var values: [String: SideloadValue] = [:]
        for (k, v) in map { values["\(k.base)"] = value(v) }
        return values
    }

    static func value(_ v: Any) -> SideloadValue {
        switch v {
        case let b as Bool where type(of: v) == Bool.self: return .bool(b)
        case let n as NSNumber:
            // JSONSerialization gives NSNumber for both; a boolean NSNumber is CFBoolean.
            if String(cString: n.objCType) == "c" { return .bool(n.boolValue) }
            return .number(n.doubleValue)
        case let i as Int: return .number(Double(i))
        case let d as Double: return .number(d)
        case let s as String: return .string(s)
        default: return .other(goTypeName(v))
        }
    }

    static func goTypeName(_ v: Any) -> String {
        switch v {
        case is [Any]: "[]interface {}"
        case is [AnyHashable: Any]: "map[string]interface {}"
        case is NSNull: "<nil>"
        default: "\(type(of: v))"
        }
    }

    /// A YAML error with its line and column, as Yams reports them.
    static func yamlProblem(_ e: YamlError) -> String {
        switch e {
        case .scanner(let context, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(context?.text ?? "") \(problem)".replacingOccurrences(of: ":  ", with: ": ")
        case .parser(let context, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(context?.text ?? "") \(problem)".replacingOccurrences(of: ":  ", with: ": ")
        case .composer(let context, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(context?.text ?? "") \(problem)".replacingOccurrences(of: ":  ", with: ": ")
        default:
            return "\(e)"
        }
    }

    /// A JSON error with the line it is on: Foundation's message when it names a line, else the line of the
    /// character offset it names.
    static func jsonProblem(_ error: any Error, in text: String) -> String {
        let ns = error as NSError
        let message = (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
        if message.contains("line ") { return message }
        var index = ns.userInfo["NSJSONSerializationErrorIndex"] as? Int
        if index == nil, let r = message.range(of: "character ") {
            index = Int(message[r.upperBound...].prefix(while: \.isNumber))
        }
        guard let index else { return message }
        let line = text.utf8.prefix(index).reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        return "line \(line): \(message)"
    }
}

/// The sideload sources in use, shared by directory (two tasks reading one directory share one cache), so that one
/// reload reads each directory once. Sources are held weakly: a directory no task uses is forgotten.
public final class SideloadSources: Sendable {
    /// The process's sources: what `POST /kapacitor/v1/sideload/reload` reloads.
    public static let shared = SideloadSources()

    private final class Weak: @unchecked Sendable {
        weak var source: SideloadSource?
        init(_ s: SideloadSource) { source = s }
    }
    private let sources = Mutex<[String: Weak]>([:])

    public init() {}

    /// The source for `url` (`file:///abs/dir`), read now when no task holds it yet.
    func source(for url: String) throws(SideloadError) -> SideloadSource {
        let directory = try Self.directory(of: url)
        if let s = sources.withLock({ $0[directory]?.source }) { return s }
        let s = try SideloadSource(directory: directory)
        return sources.withLock { table in
            if let existing = table[directory]?.source { return existing }
            table = table.filter { $0.value.source != nil }
            table[directory] = Weak(s)
            return s
        }
    }

    /// Reads every source in use again, as Kapacitor's `/sideload/reload`; the first failure is thrown (naming the
    /// directory and file) after the others were tried.
    public func reload() throws(SideloadError) {
        let live = sources.withLock { $0.values.compactMap(\.source) }
        var first: SideloadError?
        for s in live {
            do throws(SideloadError) {
                try s.reload()
            } catch {
                if first == nil { first = SideloadError("failed to update source \"\(s.directory)\": \(error.message)") }
            }
        }
        if let first { throw first }
    }

    /// The directory a `.source()` names: a `file://` URL with an absolute path, cleaned.
    static func directory(of url: String) throws(SideloadError) -> String {
        guard let u = URL(string: url), let scheme = u.scheme else {
            throw SideloadError("unsupported source \"\(url)\": Tock's sideload reads file:// directories (file:///path/to/dir)")
        }
        guard scheme == "file" else {
            if scheme == "http" || scheme == "https" {
                throw SideloadError("sideload source \"\(url)\": http and https sources are not supported by Tock; use a file:// directory")
            }
            throw SideloadError("unsupported source scheme \"\(scheme)\", must be 'file'")
        }
        if let host = u.host, !host.isEmpty, host != "localhost" {
            throw SideloadError("sideload source \"\(url)\" names host \"\(host)\": write a file:// URL with an absolute path, as file:///path/to/dir")
        }
        let path = u.path
        guard path.hasPrefix("/") else {
            throw SideloadError("sideload source path must be absolute \"\(path)\"")
        }
        let cleaned = (path as NSString).standardizingPath
        return cleaned.isEmpty ? "/" : cleaned
    }
}
