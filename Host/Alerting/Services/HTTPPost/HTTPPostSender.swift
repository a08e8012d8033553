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
    /// Whether a refusal's reason carries the receiver's answer (`capture-response`); Kapacitor logs it only then.
    var captureResponse = false

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
            bytes = event.jsonLine
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
        do {
            _ = try await AlertHTTP.send(.POST, url: target, headers: all, body: bytes, timeout: timeout,
                                         client: IncidentSupport.client(insecure: insecure))
        } catch {
            throw Self.refusal(error, url: target, captureResponse: captureResponse)
        }
    }

    /// A non-2xx answer as Kapacitor logs it (`POST returned non 2xx status code`, with the receiver's body only
    /// under `capture-response`); other failures keep their reason. The classification (retryable or not) is kept.
    static func refusal(_ failure: DeliveryFailure, url: String, captureResponse: Bool) -> DeliveryFailure {
        let prefix = "POST \(AlertHTTP.redacting(url)) returned status "
        guard failure.reason.hasPrefix(prefix) else { return DeliveryFailure(failure.kind, "post: " + failure.reason) }
        let rest = failure.reason.dropFirst(prefix.count)
        let code = rest.prefix { $0.isNumber }
        var answer = rest.dropFirst(code.count)
        if answer.hasPrefix(": ") { answer = answer.dropFirst(2) }
        let error = captureResponse ? String(answer) : "unknown error, use .captureResponse() to capture the HTTP response"
        return DeliveryFailure(failure.kind, "post: POST \(AlertHTTP.redacting(url)) returned non 2xx status code \(code): \(error)")
    }
}
