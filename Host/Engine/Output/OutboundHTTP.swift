import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What came back from one outbound HTTP request.
struct HTTPOutcome: Sendable {
    /// The status code, or `nil` when the request failed below HTTP (refused, timed out).
    var status: Int?
    /// The first ``OutboundHTTP/bodyPrefixLimit`` bytes of the response body.
    var bodyPrefix: [UInt8]
    /// Why the request failed below HTTP.
    var error: String?

    var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
}

/// Outbound HTTP for the alert `.post()` handler and the `httpPost` node: URLSession from FoundationNetworking.
enum OutboundHTTP {
    /// How much of a response body is kept for error messages.
    static let bodyPrefixLimit = 4096

    /// A POST of `body` to `url` with `headers` (set in order, a later one replacing an earlier one of the same
    /// name); `timeout` in nanoseconds, 0 for URLSession's default (60s without data).
    static func postRequest(url: URL, body: [UInt8], headers: [(name: String, value: String)], timeout: Int64) -> URLRequest {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if timeout > 0 { request.timeoutInterval = Double(timeout) / 1e9 }
        return request
    }

    /// Sends `request`; `completion` runs on URLSession's queue.
    static func send(_ request: URLRequest, completion: @escaping @Sendable (HTTPOutcome) -> Void) {
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            let prefix = data.map { [UInt8]($0.prefix(bodyPrefixLimit)) } ?? []
            if let error {
                completion(HTTPOutcome(status: nil, bodyPrefix: prefix, error: error.localizedDescription))
            } else {
                completion(HTTPOutcome(status: (response as? HTTPURLResponse)?.statusCode, bodyPrefix: prefix, error: nil))
            }
        }
        task.resume()
    }

    /// Sends `request` and waits for the outcome (for handlers that run on their own thread).
    static func sendAndWait(_ request: URLRequest) -> HTTPOutcome {
        let box = OutcomeBox()
        let done = DispatchSemaphore(value: 0)
        send(request) { outcome in
            box.set(outcome)
            done.signal()
        }
        done.wait()
        return box.get()
    }
}

/// The outcome of one request, handed from URLSession's queue to the waiting thread.
private final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome = HTTPOutcome(status: nil, bodyPrefix: [], error: "no response")

    func set(_ o: HTTPOutcome) {
        lock.lock()
        defer { lock.unlock() }
        outcome = o
    }

    func get() -> HTTPOutcome {
        lock.lock()
        defer { lock.unlock() }
        return outcome
    }
}
