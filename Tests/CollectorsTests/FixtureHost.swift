import Foundation
import LogTesting
import TockModel
@testable import Collectors

/// A fake `/` in a temporary directory: tests write the `/proc` and `/sys` files a collector reads.
final class FixtureHost {
    let root: String
    var usage: [String: FileSystemUsage] = [:]

    init() {
        root = NSTemporaryDirectory() + "tock-collectors-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `text` at `path` (relative to the root: `proc/stat`).
    func write(_ path: String, _ text: String) {
        let full = root + "/" + path
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    func write(_ path: String, bytes: [UInt8]) {
        let full = root + "/" + path
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: full, contents: Data(bytes))
    }

    var host: HostFS {
        let usage = self.usage
        return HostFS.fixture(root: root, usage: { usage[$0] })
    }

    /// A context at `time` (nanoseconds) whose log lines are kept in `logged`.
    func context(time: Int64 = 1_000_000_000, logged: LogLines = LogLines()) -> GatherContext {
        GatherContext(time: time, host: host, logger: logged.logger)
    }
}

/// The log lines a test's collector wrote: each line's level and message.
typealias LogLines = LogRecorder

extension LogRecorder {
    var all: [(LogLevel, String)] { entries }
}

extension Collector {
    static func make(_ options: [String: CollectorOptions.Value] = [:]) throws -> Self {
        try Self(options: CollectorOptions(collector: name, options))
    }
}

extension ExecdCollector {
    static func make(_ options: [String: CollectorOptions.Value] = [:]) throws -> ExecdCollector {
        try ExecdCollector(options: CollectorOptions(collector: name, options))
    }
}
