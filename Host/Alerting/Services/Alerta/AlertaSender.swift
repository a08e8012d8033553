import Engine
import Foundation

/// One Alerta handler: renders the templates over the event and POSTs Kapacitor's body to `<url>/alert` with
/// `Authorization: <prefix> <token>`; Alerta answers 201 (Kapacitor: services/alerta/service.go `Handle`, `Alert`).
struct AlertaSender: AlertSender {
    let url: String
    let insecure: Bool
    let token: String
    let tokenPrefix: String
    let resource: EventTemplate
    let event: EventTemplate
    let environment: EventTemplate
    let defaultEnvironment: String
    let group: EventTemplate
    let value: EventTemplate
    let origin: String
    let services: [EventTemplate]
    let correlate: [EventTemplate]
    let timeoutSeconds: Int64

    var description: String { "alerta \(AlertHTTP.redacting(url))" }

    func send(_ alert: AlertEvent) async throws(DeliveryFailure) {
        let body = try self.body(alert)
        var target = URLComponents(string: url) ?? URLComponents()
        target.path = Self.join(target.path, "alert")
        let response = try await IncidentSupport.deliver("alerta") { () async throws(DeliveryFailure) in try await AlertHTTP.send(
            .POST, url: target.string ?? url,
            headers: [("Authorization", tokenPrefix + " " + token), ("Content-Type", "application/json")],
            body: body, client: IncidentSupport.client(insecure: insecure)) }
        try IncidentSupport.expect(201, from: response, service: "Alerta", field: "message")
    }

    /// The JSON line Kapacitor writes (`json.NewEncoder(…).Encode(postData)`; Go sorts the map's keys).
    func body(_ alert: AlertEvent) throws(DeliveryFailure) -> [UInt8] {
        let resource = try self.resource.rendering(alert, service: "alerta resource")
        let event = try self.event.rendering(alert, service: "alerta event")
        guard !resource.isEmpty, !event.isEmpty else { throw .permanent("alerta: Resource and Event are required to send an alert") }
        var environment = try self.environment.rendering(alert, service: "alerta environment")
        if environment.isEmpty { environment = defaultEnvironment }
        var services: [String] = []
        for t in self.services { services.append(try t.rendering(alert, service: "alerta service")) }
        if self.services.isEmpty { services = [alert.name] }
        var correlate: [String] = []
        for t in self.correlate { correlate.append(try t.rendering(alert, service: "alerta correlate")) }
        if self.correlate.isEmpty { correlate = [alert.name] }

        var post: [String: GoValueJSON] = [
            "resource": .string(resource),
            "event": .string(event),
            "environment": .string(environment),
            "severity": .string(Self.severity(alert.level)),
            "group": .string(try group.rendering(alert, service: "alerta group")),
            "value": .string(try value.rendering(alert, service: "alerta value")),
            "text": .string(alert.message),
            "origin": .string(origin),
            "rawData": .raw(Series.result([alert.data])),
            "timeout": .int(timeoutSeconds),
            "tags": .array(alert.tags.map { "\($0.key)=\($0.value)" }.sorted().map { .string($0) }),
        ]
        if !services.isEmpty { post["service"] = .array(services.map { .string($0) }) }
        if !correlate.isEmpty { post["correlate"] = .array(correlate.map { .string($0) }) }
        return GoValueJSON.object(post).encodedLine
    }

    static func severity(_ level: AlertLevel) -> String {
        switch level {
        case .ok: "ok"
        case .info: "informational"
        case .warning: "warning"
        case .critical: "critical"
        }
    }

    /// Go's `path.Join(p, "alert")`.
    static func join(_ path: String, _ last: String) -> String {
        var parts: [Substring] = []
        for part in (path + "/" + last).split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
