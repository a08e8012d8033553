import AsyncHTTPClient
import Engine
import NIOCore
import NIOHTTP1

/// The `httpPost` node's requests over the process's alert client (``AlertHTTP/shared``): pooled connections, TLS,
/// redirects followed; a request with no timeout of its own gets 60 s.
struct AsyncHTTPPoster: HTTPPoster {
    func post(_ post: OutboundPost, completion: @escaping @Sendable (HTTPOutcome) -> Void) {
        Task {
            var request = HTTPClientRequest(url: post.url)
            request.method = .POST
            for (name, value) in post.headers { request.headers.replaceOrAdd(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: post.body))
            do {
                let response = try await AlertHTTP.shared.execute(
                    request, timeout: post.timeout > 0 ? .nanoseconds(post.timeout) : .seconds(60))
                var prefix: [UInt8] = []
                for try await chunk in response.body where prefix.count < OutboundHTTP.bodyPrefixLimit {
                    prefix += chunk.readableBytesView.prefix(OutboundHTTP.bodyPrefixLimit - prefix.count)
                }
                completion(HTTPOutcome(status: Int(response.status.code), bodyPrefix: prefix, error: nil))
            } catch {
                completion(HTTPOutcome(status: nil, bodyPrefix: [], error: AlertHTTP.describe(error)))
            }
        }
    }
}
