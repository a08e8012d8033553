import Engine
import TockModel
@testable import Alerting

/// The alert the incident services' tests send: task `cpu_alert`, measurement `cpu`, grouped by host, value 91.5
/// at 10 s after the epoch.
enum IncidentFixtures {
    static func event(_ level: AlertLevel = .critical, id: String = "cpu:host=serverA", message: String? = nil, details: String = "details") -> AlertEvent {
        let tags = Tags(["host": "serverA"])
        let fields: Fields = ["value": .double(91.5)]
        return AlertEvent(
            id: id, message: message ?? "cpu is \(level)", details: details, time: 10_000_000_000,
            duration: level == .ok ? 5_000_000_000 : 0, level: level, previousLevel: level == .ok ? .critical : .ok,
            recoverable: true,
            data: .point(Point(name: "cpu", tags: tags, fields: fields, time: 10_000_000_000)),
            taskName: "cpu_alert", name: "cpu", group: GroupID("host=serverA"), tags: tags, fields: fields)
    }

    /// The alert's `data` as Kapacitor writes it.
    static let rawData = #"{"series":[{"name":"cpu","tags":{"host":"serverA"},"columns":["time","value"],"values":[["1970-01-01T00:00:10Z",91.5]]}]}"#

    static func failure(_ body: () async throws(DeliveryFailure) -> Void) async -> DeliveryFailure? {
        do {
            try await body()
            return nil
        } catch {
            return error
        }
    }
}
