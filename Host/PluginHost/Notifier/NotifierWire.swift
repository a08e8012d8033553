import Engine
import PluginProtocol
import SwiftProtobuf
import TockModel
import UDFProtocol

/// Conversions between Tock's alert values and `plugin.proto`'s messages, and framing.
enum NotifierWire {
    static func frame(_ request: Tock_Plugin_Request) -> [UInt8] {
        // Serializing a message built from valid values cannot fail.
        let payload: [UInt8] = (try? request.serializedBytes()) ?? []
        return FrameEncoder.frame(payload)
    }

    static func request(_ event: AlertEvent, options: [String: HandlerOption], attempt: Int, topic: String) -> Tock_Plugin_NotifyRequest {
        .with {
            $0.attempt = UInt32(clamping: attempt)
            $0.event = alertEvent(event, topic: topic)
            for (key, value) in options {
                if let v = optionValue(value) { $0.options[key] = v }
            }
        }
    }

    static func alertEvent(_ e: AlertEvent, topic: String) -> Tock_Plugin_AlertEvent {
        .with {
            $0.id = e.id
            $0.message = e.message
            $0.details = e.details
            $0.time = e.time
            $0.duration = e.duration
            $0.level = level(e.level)
            $0.previousLevel = level(e.previousLevel)
            $0.recoverable = e.recoverable
            $0.task = e.taskName
            $0.name = e.name
            $0.group = e.group.rawValue
            $0.tags = Dictionary(uniqueKeysWithValues: e.tags.map { ($0.key, $0.value) })
            for (key, value) in e.fields { $0.fields[key] = fieldValue(value) }
            $0.topic = topic
            $0.category = e.category ?? ""
            $0.json = e.json
        }
    }

    static func level(_ l: AlertLevel) -> Tock_Plugin_Level {
        switch l {
        case .ok: .ok
        case .info: .info
        case .warning: .warning
        case .critical: .critical
        }
    }

    static func fieldValue(_ v: FieldValue) -> Tock_Plugin_FieldValue {
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
    static func optionValue(_ v: HandlerOption, as type: Tock_Plugin_OptionType? = nil) -> Tock_Plugin_OptionValue? {
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

    static func describe(_ type: Tock_Plugin_OptionType) -> String {
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
}
