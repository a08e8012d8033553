import AsyncHTTPClient
import Engine
import Foundation
import NIOCore
import NIOSSL
import TockModel

/// What the incident-management services share: the client that skips TLS verification, Basic credentials,
/// the "not enabled" refusal, and reading a service's own success status out of a 2xx answer.
enum IncidentSupport {
    /// A client that does not verify the receiver's certificate (`insecure-skip-verify`, `skip-ssl-verification`).
    static let insecureClient: HTTPClient = {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: AlertHTTP.configuration(tls: tls))
    }()

    static func client(insecure: Bool) -> HTTPClient { insecure ? insecureClient : AlertHTTP.shared }

    /// `Authorization: Basic …`, as Go's `req.SetBasicAuth` writes it.
    static func basicAuth(username: String, password: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
    }

    /// The refusal of a handler whose service is off.
    static func notEnabled(_ section: String) -> HandlerOptionError {
        HandlerOptionError("\(section): the [\(section)] section is not enabled (set enabled = true in kapacitor.conf)")
    }

    /// A 2xx other than the one the service answers with (Alerta and BigPanda answer 201, the others 200), read as
    /// Kapacitor reads it: the `field` of a JSON answer, else the status and the body. Permanent: the receiver
    /// took the request and said something else.
    static func expect(_ status: Int, from response: AlertHTTP.Response, service: String, field: String) throws(DeliveryFailure) {
        guard response.status != status else { return }
        let text = response.text
        var reason = "failed to understand \(service) response. code: \(response.status) content: \(text)"
        if case .object(let map)? = GoValueJSON.parse(text), case .string(let message)? = map[field] { reason = message }
        throw .permanent("\(service.lowercased()): \(service) answered \(response.status), not \(status): \(reason)")
    }

    /// Runs one request and names the service in a failure's reason (`alerta: POST http://… returned status 503`).
    static func deliver(_ service: String, _ request: () async throws(DeliveryFailure) -> AlertHTTP.Response)
        async throws(DeliveryFailure) -> AlertHTTP.Response {
        do {
            return try await request()
        } catch {
            throw DeliveryFailure(error.kind, error.reason.hasPrefix(service) ? error.reason : "\(service): \(error.reason)")
        }
    }

    static func duration(_ nanoseconds: Int64) -> Duration { .nanoseconds(nanoseconds) }
}

/// A handler template option parsed when the handler is made: a broken template is refused at define time and
/// names the option.
extension EventTemplate {
    static func option(_ source: String, name: String, data: Data, kind: String) throws(HandlerOptionError) -> EventTemplate {
        do {
            return try EventTemplate(name: name, source: source, data: data)
        } catch {
            throw HandlerOptionError("\(kind) option \(name): \(error)", option: name)
        }
    }

    func rendering(_ event: AlertEvent, service: String) throws(DeliveryFailure) -> String {
        do {
            return try render(event)
        } catch {
            throw .permanent("\(service): \(error)")
        }
    }
}
