import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `.post(url)`: HTTP POST of the JSON line with `Content-Type: application/json` and the script's headers.
/// A status other than 2xx is reported as a failure (logged), as Kapacitor does.
struct PostHandler: AlertHandler {
    let url: URL
    let headers: [(name: String, value: String)]
    /// Seconds; 0 for URLSession's default.
    let timeout: Double

    var name: String { "post \(url.absoluteString)" }

    func deliver(_ body: [UInt8]) throws {
        let request = OutboundHTTP.postRequest(
            url: url, body: body, headers: [("Content-Type", "application/json")] + headers, timeout: Int64(timeout * 1e9))
        let outcome = OutboundHTTP.sendAndWait(request)
        if let error = outcome.error { throw AlertHandlerError("POST \(url.absoluteString) failed: \(error)") }
        guard outcome.succeeded else {
            let text = String(decoding: outcome.bodyPrefix.prefix(512), as: UTF8.self)
            throw AlertHandlerError("POST \(url.absoluteString) returned status \(outcome.status.map(String.init) ?? "none")\(text.isEmpty ? "" : ": \(text)")")
        }
    }
}
