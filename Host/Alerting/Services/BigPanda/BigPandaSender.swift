import Engine

/// One BigPanda handler: POSTs the alert with `Authorization: Bearer <token>` and expects 201
/// (Kapacitor: services/bigpanda/service.go `preparePost`).
struct BigPandaSender: AlertSender {
    let url: String
    let token: String
    let insecure: Bool
    let appKey: String
    let primaryProperty: String
    let secondaryProperty: String
    let host: EventTemplate?
    let attributes: [(String, EventTemplate)]
    let includeTags: Bool
    let includeFields: Bool

    var description: String { "bigpanda \(AlertHTTP.redacting(url))" }

    /// check (the alert ID), description (the message), details (unless it is the default JSON details), task
    /// (`task:measurement`), timestamp (Unix seconds), status (ok, warning, critical), app_key, the properties and
    /// host when set, then the point's tags and fields and the handler's attributes.
    func body(_ event: AlertEvent) throws(DeliveryFailure) -> [UInt8] {
        var data: [String: GoValueJSON] = [:]
        if !event.message.isEmpty { data["description"] = .string(event.message) }
        if !primaryProperty.isEmpty { data["primary_property"] = .string(primaryProperty) }
        if !secondaryProperty.isEmpty { data["secondary_property"] = .string(secondaryProperty) }
        if let host { data["host"] = .string(try host.rendering(event, service: "bigpanda host")) }
        if !event.details.isEmpty {
            let details = Self.htmlUnescape(event.details)
            if !details.hasPrefix("{") { data["details"] = .string(details) }
        }
        if !event.id.isEmpty { data["check"] = .string(event.id) }
        data["task"] = .string("\(event.taskName):\(event.name)")
        data["timestamp"] = .int(Self.unixSeconds(event.time))
        data["status"] = .string(Self.status(event.level))
        data["app_key"] = .string(appKey)
        if includeTags { for (k, v) in event.tags { data[k] = .string(v) } }
        if includeFields { for (k, v) in event.fields { data[k] = GoValueJSON(v) } }
        for (key, template) in attributes { data[key] = .string(try template.rendering(event, service: "bigpanda attributes.\(key)")) }
        return GoValueJSON.object(data).encodedLine
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let response = try await IncidentSupport.deliver("bigpanda") { () async throws(DeliveryFailure) in try await AlertHTTP.send(
            .POST, url: url, headers: [("Authorization", "Bearer " + token), ("Content-Type", "application/json")],
            body: try body(event), client: IncidentSupport.client(insecure: insecure)) }
        try IncidentSupport.expect(201, from: response, service: "BigPanda", field: "error")
    }

    static func status(_ level: AlertLevel) -> String {
        switch level {
        case .ok, .info: "ok"
        case .warning: "warning"
        case .critical: "critical"
        }
    }

    static func unixSeconds(_ t: Int64) -> Int64 {
        t >= 0 ? t / 1_000_000_000 : -((-t + 999_999_999) / 1_000_000_000)
    }

    /// Go's `html.UnescapeString` for what `html/template` writes into details: named and numeric references.
    static func htmlUnescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        let named: [String: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "#39": "'", "#34": "\""]
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semi = after.prefix(10).firstIndex(of: ";") {
                let name = String(after[..<semi])
                if let r = named[name] {
                    out += r
                    rest = after[after.index(after: semi)...]
                    continue
                }
                if name.hasPrefix("#"), let code = name.hasPrefix("#x") || name.hasPrefix("#X")
                    ? UInt32(name.dropFirst(2), radix: 16) : UInt32(name.dropFirst()), let scalar = Unicode.Scalar(code) {
                    out.unicodeScalars.append(scalar)
                    rest = after[after.index(after: semi)...]
                    continue
                }
            }
            out += "&"
            rest = after
        }
        return out + rest
    }
}
