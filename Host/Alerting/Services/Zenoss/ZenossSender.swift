import Engine

/// One Zenoss handler: POSTs the router call `{"action","method","data":[event],"type","tid"}` with Basic
/// credentials when both are set, and expects 200 (Kapacitor: services/zenoss/service.go `preparePost`).
struct ZenossSender: AlertSender {
    enum Custom: Sendable {
        case template(EventTemplate)
        case value(GoValueJSON)
    }

    let url: String
    let username: String
    let password: String
    let action: String
    let method: String
    let type: String
    let tid: Int64
    let collector: String
    let severityMap: [AlertLevel: ZenossService.SeverityValue]
    let templates: [String: EventTemplate]
    let custom: [(String, Custom)]

    var description: String { "zenoss \(AlertHTTP.redacting(url))" }

    /// The event's data: summary (the message unless templated, at most 256 bytes), device, component, evclasskey,
    /// evclass, severity from the severity map, and collector and message when set; then the custom fields (a
    /// string that reads as a JSON object or array is sent as that JSON).
    func body(_ event: AlertEvent) throws(DeliveryFailure) -> [UInt8] {
        func render(_ key: String) throws(DeliveryFailure) -> String {
            try templates[key]?.rendering(event, service: "zenoss \(key)") ?? ""
        }
        var summary = try render("summary")
        if summary.isEmpty { summary = event.message }
        var collector = try render("collector")
        if collector.isEmpty { collector = self.collector }
        let message = try render("message").goPrefix(bytes: 4096)
        var data: [String: GoValueJSON] = [
            "summary": .string(summary.goPrefix(bytes: 256)),
            "device": .string(try render("device")),
            "component": .string(try render("component")),
            "evclasskey": .string(try render("eventClassKey")),
            "evclass": .string(try render("eventClass")),
        ]
        switch severityMap[event.level] {
        case .name(let s)?: data["severity"] = .string(s)
        case .number(let d)?: data["severity"] = .float(d)
        case nil: data["severity"] = .null
        }
        if !collector.isEmpty { data["collector"] = .string(collector) }
        if !message.isEmpty { data["message"] = .string(message) }
        for (key, value) in custom {
            switch value {
            case .value(let v): data[key] = v
            case .template(let t):
                let text = try t.rendering(event, service: "zenoss customField \(key)")
                if text.hasPrefix("{") || text.hasPrefix("["), let json = GoValueJSON.parse(text) {
                    data[key] = json
                } else {
                    data[key] = .string(text)
                }
            }
        }
        let call = GoValueJSON.fields([
            ("action", .string(action)), ("method", .string(method)), ("data", .array([.object(data)])),
            ("type", .string(type)), ("tid", .int(tid)),
        ])
        return Array(call.encoded.utf8)
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        var headers: [(String, String)] = []
        if !username.isEmpty && !password.isEmpty { headers.append(IncidentSupport.basicAuth(username: username, password: password)) }
        let response = try await IncidentSupport.deliver("zenoss") { () async throws(DeliveryFailure) in try await AlertHTTP.postJSON(url: url, body: try body(event), headers: headers) }
        try IncidentSupport.expect(200, from: response, service: "Zenoss", field: "error")
    }
}
