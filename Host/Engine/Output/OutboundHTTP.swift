/// One POST of the `httpPost` node.
public struct OutboundPost: Sendable {
    public var url: String
    public var body: [UInt8]
    /// In order; a later one replaces an earlier one of the same name.
    public var headers: [(name: String, value: String)]
    /// Nanoseconds; 0 for the poster's default.
    public var timeout: Int64

    public init(url: String, body: [UInt8], headers: [(name: String, value: String)], timeout: Int64) {
        self.url = url
        self.body = body
        self.headers = headers
        self.timeout = timeout
    }
}

/// What came back from one outbound HTTP request.
public struct HTTPOutcome: Sendable {
    /// The status code, or `nil` when the request failed below HTTP (refused, timed out).
    public var status: Int?
    /// The first ``OutboundHTTP/bodyPrefixLimit`` bytes of the response body.
    public var bodyPrefix: [UInt8]
    /// Why the request failed below HTTP.
    public var error: String?

    public init(status: Int?, bodyPrefix: [UInt8], error: String?) {
        self.status = status
        self.bodyPrefix = bodyPrefix
        self.error = error
    }

    var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
}

/// Where the `httpPost` node's requests go out. The engine holds no HTTP client: its ``AlertService`` provides one
/// (``AlertService/httpPoster``; Kapacitor's httppost service likewise serves both the alert `.post()` handler and the
/// node), and without one every request fails, naming why.
public protocol HTTPPoster: Sendable {
    /// Sends `request`; `completion` runs once, on any thread.
    func post(_ request: OutboundPost, completion: @escaping @Sendable (HTTPOutcome) -> Void)
}

public enum OutboundHTTP {
    /// How much of a response body is kept for error messages.
    public static let bodyPrefixLimit = 4096
}

/// The poster of an engine embedded without a delivery service.
struct NoHTTPPoster: HTTPPoster {
    func post(_ request: OutboundPost, completion: @escaping @Sendable (HTTPOutcome) -> Void) {
        completion(HTTPOutcome(status: nil, bodyPrefix: [],
                               error: "no HTTP client: this engine was embedded without a delivery service (tock serve, tock run and tock test have one)"))
    }
}
