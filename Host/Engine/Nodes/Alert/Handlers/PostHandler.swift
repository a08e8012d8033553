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
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if timeout > 0 { request.timeoutInterval = timeout }
        let result = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            result.set(data: data, status: (response as? HTTPURLResponse)?.statusCode, error: error.map { "\($0.localizedDescription)" })
            done.signal()
        }
        task.resume()
        done.wait()
        let (data, status, error) = result.get()
        if let error { throw AlertHandlerError("POST \(url.absoluteString) failed: \(error)") }
        guard let status, (200..<300).contains(status) else {
            let text = data.map { String(decoding: $0.prefix(512), as: UTF8.self) } ?? ""
            throw AlertHandlerError("POST \(url.absoluteString) returned status \(status.map(String.init) ?? "none")\(text.isEmpty ? "" : ": \(text)")")
        }
    }
}

/// The outcome of one request, handed from URLSession's queue to the waiting handler.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    private var status: Int?
    private var error: String?

    func set(data: Data?, status: Int?, error: String?) {
        lock.lock()
        defer { lock.unlock() }
        self.data = data
        self.status = status
        self.error = error
    }

    func get() -> (Data?, Int?, String?) {
        lock.lock()
        defer { lock.unlock() }
        return (data, status, error)
    }
}
