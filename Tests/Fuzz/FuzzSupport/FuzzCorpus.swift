import Foundation

/// The committed inputs of a fuzz target: seeds in `Tests/Fuzz/Corpus/<target>/` and the crashers found
/// so far in `Tests/Fuzz/Crashers/<target>/`, for the replay tests.
public struct FuzzCorpus: Sendable {
    /// The target's directory name: `line-protocol`, `tickscript` or `udf`.
    public var target: String

    public init(_ target: String) { self.target = target }

    /// `Tests/Fuzz`, found from this source file's path.
    public static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Crashers that still crash or break a property on this branch, keyed by `<target>/<file>`, with
    /// where they are being fixed. Their replay is a separate, disabled test; remove an entry when the fix
    /// is merged, so the crasher joins the replay of fixed ones. Every entry is described in
    /// `Tests/Fuzz/Crashers.md`.
    public static let open: [String: String] = [:]

    /// The seed files' names, sorted.
    public var seeds: [String] { Self.names(in: Self.fuzzDirectory + "/Corpus/" + target) }

    /// The crasher files' names, sorted: all of them, the fixed ones, or the ones in ``open``.
    public var crashers: [String] { Self.names(in: Self.fuzzDirectory + "/Crashers/" + target) }
    public var fixedCrashers: [String] { crashers.filter { Self.open[target + "/" + $0] == nil } }
    public var openCrashers: [String] { crashers.filter { Self.open[target + "/" + $0] != nil } }

    /// Crashers of this target that `Tests/Fuzz/Crashers.md` does not describe.
    public func undocumentedCrashers() throws -> [String] {
        let notes = try String(contentsOfFile: Self.fuzzDirectory + "/Crashers.md", encoding: .utf8)
        return crashers.filter { !notes.contains(target + "/" + $0) }
    }

    /// Entries of ``open`` for this target whose file is missing.
    public var missingOpenCrashers: [String] {
        Self.open.keys.filter { $0.hasPrefix(target + "/") && !crashers.contains(String($0.dropFirst(target.count + 1))) }.sorted()
    }

    /// The bytes of a seed (`kind` "Corpus") or crasher (`kind` "Crashers").
    public func bytes(_ kind: String, _ name: String) throws -> [UInt8] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fuzzDirectory + "/\(kind)/\(target)/\(name)"))
        return [UInt8](data)
    }

    static func names(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }
}
