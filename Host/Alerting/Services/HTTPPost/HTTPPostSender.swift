import Engine

/// One `post` handler: renders the URL (a Go template over the alert data), the body (the endpoint's
/// `alert-template`, or the alert JSON and a newline with `Content-Type: application/json`), and POSTs it with the
/// endpoint's headers and Basic credentials, the handler's headers replacing those of the same name
/// (Kapacitor: services/httppost/service.go `Handle`).
struct HTTPPostSender: AlertSender {
    let endpointName: String
    let url: EventTemplate
    let body: EventTemplate?
    let endpointHeaders: [String: String]
    let basicAuth: HTTPPostEndpoint.BasicAuth?
    let headers: [String: String]
    let timeout: Duration
    let insecure: Bool

    var description: String {
        endpointName.isEmpty ? "post \(AlertHTTP.redacting(url.source))" : "post endpoint \"\(endpointName)\""
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let target = try url.rendering(event, service: "post url")
        let bytes: [UInt8]
        var contentType: String?
        if let body {
            bytes = Array(try body.rendering(event, service: "post alert-template").utf8)
        } else {
            bytes = Array((event.json + "\n").utf8)
            contentType = "application/json"
        }
        var all: [(String, String)] = []
        if let basicAuth { all.append(IncidentSupport.basicAuth(username: basicAuth.username, password: basicAuth.password)) }
        for (name, value) in endpointHeaders.sorted(by: { $0.key < $1.key }) { all.append((name, value)) }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            all.removeAll { $0.0.lowercased() == name.lowercased() }
            all.append((name, value))
        }
        if let contentType {
            all.removeAll { $0.0.lowercased() == "content-type" }
            all.append(("Content-Type", contentType))
        }
        _ = try await IncidentSupport.deliver("post") { () async throws(DeliveryFailure) in try await AlertHTTP.send(.POST, url: target, headers: all, body: bytes, timeout: timeout,
                                     client: IncidentSupport.client(insecure: insecure)) }
    }
}
