import Logging
import PluginProtocol
import SwiftProtobuf
import TockModel
import UDFProtocol

/// `plugin.proto`'s framing and the conversions every plugin kind shares: option values (collectors' and
/// notifiers' handshakes) and field values.
package enum PluginWire {
    package static func frame(_ request: Tock_Plugin_Request) -> [UInt8] {
        // Serializing a message built from valid values cannot fail.
        let payload: [UInt8] = (try? request.serializedBytes()) ?? []
        return FrameEncoder.frame(payload)
    }

    /// How the host runs a `plugin.proto` plugin of `kind` (`collector`, `notifier`): keepalives and the start-up
    /// silence bounded by its `timeout` (nanoseconds), a stop's grace period derived from it.
    package static func connectionOptions(kind: String, name: String, timeout: Int64) -> PluginConnection.Options {
        var options = PluginConnection.Options(label: kind + ":" + name)
        options.keepaliveTimeout = UInt64(timeout)
        options.startupTimeout = UInt64(timeout)
        options.grace = UInt64(min(max(timeout, 200 * GoDuration.millisecond), 5 * GoDuration.second))
        options.maxFrameSize = 16 << 20
        return options
    }

    /// The handlers every `plugin.proto` session shares: stderr lines logged at their Telegraf-style level under
    /// `"<kind> <name>: "` with the plugin's name as `plugin` metadata, keepalives stamped with the wall clock.
    package static func handlers(kind: String, name: String, logger: Logger,
                                 frame: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void,
                                 ended: @escaping @Sendable (ConnectionEnd) -> Void) -> PluginConnection.Handlers {
        .init(frame: frame,
              stderrLine: { line in
                  logger.log(level: Logger.Level(stderrLevel(of: line)), "\(kind) \(name): \(line)",
                             metadata: ["plugin": .string(name)])
              },
              keepalive: { PluginWire.frame(.with { $0.keepalive = .with { $0.time = wallClockNanos() } }) },
              ended: ended)
    }

    package static func fieldValue(_ v: FieldValue) -> Tock_Plugin_FieldValue {
        .with {
            switch v {
            case .double(let d): $0.doubleValue = d
            case .int(let i): $0.intValue = i
            case .uint(let u): $0.uintValue = u
            case .string(let s): $0.stringValue = s
            case .bool(let b): $0.boolValue = b
            }
        }
    }

    /// A handler option as the wire carries it, converted to `type` when given (a script's int for a float option).
    package static func optionValue(_ v: HandlerOption, as type: Tock_Plugin_OptionType? = nil) -> Tock_Plugin_OptionValue? {
        switch type {
        case nil:
            switch v {
            case .string(let s): return .with { $0.stringValue = s }
            case .int(let i): return .with { $0.intValue = i }
            case .float(let f): return .with { $0.floatValue = f }
            case .bool(let b): return .with { $0.boolValue = b }
            case .duration(let d): return .with { $0.durationValue = d }
            case .list:
                guard let list = v.strings else { return nil }
                return .with { $0.stringList = .with { $0.values = list } }
            case .object:
                guard let map = v.stringMap else { return nil }
                return .with { $0.stringMap = .with { $0.values = map } }
            }
        case .string?: return v.string.map { s in .with { $0.stringValue = s } }
        case .int?: return v.int.map { i in .with { $0.intValue = i } }
        case .float?: return v.double.map { f in .with { $0.floatValue = f } }
        case .bool?: return v.bool.map { b in .with { $0.boolValue = b } }
        case .duration?: return v.duration.map { d in .with { $0.durationValue = d } }
        case .stringList?: return v.strings.map { l in .with { $0.stringList = .with { $0.values = l } } }
        case .stringMap?: return v.stringMap.map { m in .with { $0.stringMap = .with { $0.values = m } } }
        case .UNRECOGNIZED?: return nil
        }
    }

    package static func describe(_ type: Tock_Plugin_OptionType) -> String {
        switch type {
        case .string: "a string"
        case .int: "an integer"
        case .float: "a number"
        case .bool: "true or false"
        case .duration: "a duration"
        case .stringList: "a list of strings"
        case .stringMap: "a map of strings"
        case .UNRECOGNIZED(let v): "of unknown type \(v)"
        }
    }

    /// stderr lines prefixed as Telegraf's plugins do (`E! `, `W! `, `I! `, `D! `) are logged at that level.
    package static func stderrLevel(of line: String) -> LogLevel {
        if line.hasPrefix("E! ") { return .error }
        if line.hasPrefix("W! ") { return .warning }
        if line.hasPrefix("D! ") { return .debug }
        return .info
    }
}
