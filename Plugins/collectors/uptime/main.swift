import Foundation
import NotifierKit
import PluginProtocol

/// A sample collector plugin in Swift: the host's uptime and load, as `uptime,source=swift seconds=…,load1=…`.
/// Tock runs it for
///
///     [[collectors.uptime]]
///       prog = ".build/release/tock-uptime-collector"
///       interval = "30s"
///       source = "swift"        # the plugin's own option, a tag on its points
struct Uptime: Collector {
    let name = "uptime"
    let version = "1.0"
    let options = [NotifierOption("source", .string, description: "the source tag")]
    let interval: Duration? = .seconds(30)

    func gather(time: Int64, options: [String: Tock_Plugin_OptionValue]) async throws -> [CollectedPoint] {
        let uptime = try String(contentsOfFile: "/proc/uptime", encoding: .utf8).split(separator: " ").first.flatMap { Double($0) }
        let load = try String(contentsOfFile: "/proc/loadavg", encoding: .utf8).split(separator: " ").first.flatMap { Double($0) }
        guard let uptime, let load else { throw CocoaError(.fileReadCorruptFile) }
        var tags: [String: String] = [:]
        if case .stringValue(let source)? = options["source"]?.value { tags["source"] = source }
        return [CollectedPoint(name: "uptime", tags: tags, fields: ["seconds": .doubleValue(uptime), "load1": .doubleValue(load)])]
    }
}

try await Uptime().run()
