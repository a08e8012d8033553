import Foundation
import NotifierKit
import PluginProtocol

/// A sample notifier in Swift: appends each event's alert JSON, one per line, to the handler's `path`.
///
///     [notifiers.file]
///       prog = ".build/debug/tock-file-notifier"
///
///     |alert().crit(lambda: "value" > 90).notify('file').option('path', '/var/log/tock/alerts.jsonl')
struct FileNotifier: Notifier {
    let name = "file"
    let version = "1.0"
    let options = [NotifierOption("path", .string, required: true, description: "absolute path of the file to append to")]

    func notify(_ event: Tock_Plugin_AlertEvent, options: [String: Tock_Plugin_OptionValue]) async -> NotifierResult {
        guard case .stringValue(let path)? = options["path"]?.value, path.hasPrefix("/") else {
            return .fail("path must be an absolute path")
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else { return .retry("cannot create \(path)") }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { return .retry("cannot open \(path)") }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((event.json + "\n").utf8))
            return .delivered
        } catch {
            return .retry("cannot write \(path): \(error)")
        }
    }
}

try await FileNotifier().run()
