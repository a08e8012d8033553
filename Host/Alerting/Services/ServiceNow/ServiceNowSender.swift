import Engine

/// One ServiceNow handler: POSTs `{"records":[event]}` with the templates rendered, Basic credentials when both are
/// set, and expects 200 (Kapacitor: services/servicenow/service.go `Alert`, `preparePost`).
struct ServiceNowSender: AlertSender {
    enum Info: Sendable {
        case template(EventTemplate)
        case text(String)
    }

    let url: String
    let username: String
    let password: String
    let source: String
    let templates: [String: EventTemplate]
    let additionalInfo: [(String, Info)]

    var description: String { "servicenow \(AlertHTTP.redacting(url))" }

    /// The event with Kapacitor's field order and length limits (100 bytes, 1024 for message_key, 4000 for the
    /// description); severity 1 critical, 4 warning, 5 OK and info.
    func body(_ event: AlertEvent) throws(DeliveryFailure) -> [UInt8] {
        func render(_ key: String) throws(DeliveryFailure) -> String {
            try templates[key]?.rendering(event, service: "servicenow \(key)") ?? ""
        }
        var info = ""
        if !additionalInfo.isEmpty {
            var map: [String: GoValueJSON] = [:]
            for (key, value) in additionalInfo {
                switch value {
                case .template(let t): map[key] = .string(try t.rendering(event, service: "servicenow additional_info.\(key)"))
                case .text(let s): map[key] = .string(s)
                }
            }
            info = GoValueJSON.object(map).encoded
        }
        var messageKey = try render("message_key")
        if messageKey.isEmpty { messageKey = event.id }
        var record: [(String, GoValueJSON)] = [("source", .string(source.goPrefix(bytes: 100)))]
        func add(_ key: String, _ value: String) { if !value.isEmpty { record.append((key, .string(value))) } }
        add("node", try render("node").goPrefix(bytes: 100))
        add("type", try render("type").goPrefix(bytes: 100))
        add("resource", try render("resource").goPrefix(bytes: 100))
        add("metric_name", try render("metric_name").goPrefix(bytes: 100))
        add("message_key", messageKey.goPrefix(bytes: 1024))
        add("severity", String(Self.severity(event.level)))
        add("description", event.message.goPrefix(bytes: 4000))
        add("additional_info", info)
        return Array(GoValueJSON.fields([("records", .array([.fields(record)]))]).encoded.utf8)
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        var headers: [(String, String)] = []
        if !username.isEmpty && !password.isEmpty { headers.append(IncidentSupport.basicAuth(username: username, password: password)) }
        let response = try await IncidentSupport.deliver("servicenow") { () async throws(DeliveryFailure) in try await AlertHTTP.postJSON(url: url, body: try body(event), headers: headers) }
        try IncidentSupport.expect(200, from: response, service: "ServiceNow", field: "error")
    }

    static func severity(_ level: AlertLevel) -> Int {
        switch level {
        case .ok, .info: 5
        case .warning: 4
        case .critical: 1
        }
    }
}
