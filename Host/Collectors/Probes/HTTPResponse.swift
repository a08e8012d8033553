import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import TockModel

/// Telegraf's `http_response` input: requests each of `urls` and reports one `http_response` point per URL, tagged
/// `server`, `method`, `status_code` and `result`, with `response_time` (seconds), `http_response_code`,
/// `content_length`, `result_code`/`result_type` (0 success, 1 response_string_mismatch, 2 body_read_error,
/// 3 connection_failed, 4 timeout, 5 dns_error, 6 response_status_code_mismatch), and `response_string_match` /
/// `response_status_code_match` when those checks are set.
public struct HTTPResponseCollector: Collector {
    public static let name = "http_response"
    public static let summary = "HTTP probe: http_response_code, response_time, content_length, result_code, string match"

    enum Result: Int64 {
        case success = 0, responseStringMismatch, bodyReadError, connectionFailed, timeout, dnsError, statusCodeMismatch

        var tag: String {
            switch self {
            case .success: "success"
            case .responseStringMismatch: "response_string_mismatch"
            case .bodyReadError: "body_read_error"
            case .connectionFailed: "connection_failed"
            case .timeout: "timeout"
            case .dnsError: "dns_error"
            case .statusCodeMismatch: "response_status_code_mismatch"
            }
        }
    }

    let urls: [String]
    let method: String
    let timeout: Int64
    let body: String
    let stringMatch: String
    let statusCode: Int64
    let headers: [(String, String)]
    let followRedirects: Bool
    let insecure: Bool
    /// Bodies longer than this are a body_read_error (Telegraf's response_body_max_size default: 32 MiB).
    static let maxBody = 32 << 20

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        var urls = try o.strings("urls", default: [])
        let address = try o.string("address", default: "")
        if urls.isEmpty { urls = [address.isEmpty ? "http://localhost" : address] }
        for url in urls where URL(string: url)?.scheme == nil {
            throw CollectorError(Self.name, "\"\(url)\" is not a URL")
        }
        self.urls = urls
        method = try o.string("method", default: "GET").uppercased()
        let text = try o.string("response_timeout", default: "5s")
        guard let ns = GoDuration.parse(text), ns > 0 else { throw CollectorError(Self.name, "response_timeout \"\(text)\" is not a duration") }
        timeout = ns
        body = try o.string("body", default: "")
        stringMatch = try o.string("response_string_match", default: "")
        if !stringMatch.isEmpty {
            do { _ = try Regex(stringMatch) } catch { throw CollectorError(Self.name, "response_string_match is not a regular expression") }
        }
        statusCode = try o.int("response_status_code", default: 0)
        headers = try o.strings("headers", default: []).map { entry throws(CollectorError) in
            guard let colon = entry.firstIndex(of: ":") else { throw CollectorError(Self.name, "header \"\(entry)\" is not Name: value") }
            return (String(entry[..<colon]), String(entry[entry.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        followRedirects = try o.bool("follow_redirects", default: false)
        insecure = try o.bool("insecure_skip_verify", default: false)
        try o.finish()
    }

    /// A `response_timeout` per URL: they are asked in turn.
    public var gatherBound: Duration? { .nanoseconds(timeout * Int64(urls.count)) }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let client = try ProbeHTTP.client(timeout: timeout, insecure: insecure, followRedirects: followRedirects)
        defer { try? client.syncShutdown() }
        return urls.map { probe($0, client: client, context: context) }
    }

    func probe(_ url: String, client: HTTPClient, context: GatherContext) -> Point {
        var tags = ["server": url, "method": method]
        var fields: [(String, FieldValue)] = []
        let started = monotonic()
        var result: Result
        do {
            var request = try HTTPClient.Request(url: url, method: HTTPMethod(rawValue: method))
            for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
            if !body.isEmpty { request.body = .string(body) }
            let response = try client.execute(request: request, deadline: .now() + .nanoseconds(timeout)).wait()
            fields.append(("response_time", .double(seconds(since: started))))
            let code = Int64(response.status.code)
            tags["status_code"] = String(code)
            fields.append(("http_response_code", .int(code)))
            let bytes = response.body.map { Array($0.readableBytesView) } ?? []
            fields.append(("content_length", .int(Int64(bytes.count))))
            result = .success
            if bytes.count > Self.maxBody { result = .bodyReadError }
            if !stringMatch.isEmpty {
                let text = String(decoding: bytes, as: UTF8.self)
                let matched = (try? Regex(stringMatch)).flatMap { try? $0.firstMatch(in: text) } != nil
                fields.append(("response_string_match", .int(matched ? 1 : 0)))
                if !matched && result == .success { result = .responseStringMismatch }
            }
            if statusCode != 0 {
                let matched = code == statusCode
                fields.append(("response_status_code_match", .int(matched ? 1 : 0)))
                if !matched && result == .success { result = .statusCodeMismatch }
            }
        } catch {
            result = Self.classify(error)
            context.logger.debug("http_response: \(url): \(error)")
        }
        tags["result"] = result.tag
        fields.append(("result_type", .string(result.tag)))
        fields.append(("result_code", .int(result.rawValue)))
        return Point(name: "http_response", tags: Tags(tags), fields: Fields(fields), time: context.time)
    }

    static func classify(_ error: any Error) -> Result {
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
            return .timeout
        }
        let text = String(describing: error)
        if text.contains("NXDOMAIN") || text.contains("name resolution") || text.contains("unknown host") || text.contains("resolve") {
            return .dnsError
        }
        if text.lowercased().contains("timeout") || text.lowercased().contains("timed out") { return .timeout }
        return .connectionFailed
    }
}
