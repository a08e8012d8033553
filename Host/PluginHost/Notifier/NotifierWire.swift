import Engine
import PluginSupervisor
import PluginProtocol
import SwiftProtobuf
import TockModel
import UDFProtocol

/// Conversions between Tock's alert values and `plugin.proto`'s messages, and framing.
enum NotifierWire {
    static func request(_ event: AlertEvent, options: [String: HandlerOption], attempt: Int, topic: String) -> Tock_Plugin_NotifyRequest {
        .with {
            $0.attempt = UInt32(clamping: attempt)
            $0.event = alertEvent(event, topic: topic)
            for (key, value) in options {
                if let v = PluginWire.optionValue(value) { $0.options[key] = v }
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
            for (key, value) in e.fields { $0.fields[key] = PluginWire.fieldValue(value) }
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

}
