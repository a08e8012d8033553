import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import TockModel

/// Telegraf's `prometheus` input: scrapes each of `urls` (Prometheus' text exposition format, as node-exporter and
/// most exporters serve it) and reports its samples as Telegraf's metric_version 1 does (see ``PrometheusText``),
/// each tagged with the `url` it came from. A target that is down or answers an error status fails that target only;
/// the gather fails when every target did.
public struct PrometheusCollector: Collector {
    public static let name = "prometheus"
    public static let summary = "scrapes Prometheus exporters (text format): one measurement per metric family"

    let urls: [String]
    let timeout: Int64
    let bearerToken: String
    let username: String
    let password: String
    let insecure: Bool
    /// Bodies over this size are refused (a misconfigured target must not exhaust memory).
    static let maxBody = 64 << 20

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        urls = try o.strings("urls", default: [])
        guard !urls.isEmpty else { throw CollectorError(Self.name, "urls is empty: name at least one exporter to scrape") }
        for url in urls where URL(string: url)?.scheme == nil { throw CollectorError(Self.name, "\"\(url)\" is not a URL") }
        let text = try o.string("response_timeout", default: "3s")
        guard let ns = GoDuration.parse(text), ns > 0 else { throw CollectorError(Self.name, "response_timeout \"\(text)\" is not a duration") }
        timeout = ns
        let version = try o.int("metric_version", default: 1)
        guard version == 1 else { throw CollectorError(Self.name, "metric_version \(version) is not supported (Tock reads metric_version 1)") }
        bearerToken = try o.string("bearer_token_string", default: "")
        username = try o.string("username", default: "")
        password = try o.string("password", default: "")
        insecure = try o.bool("insecure_skip_verify", default: false)
        try o.finish()
    }

    /// A `response_timeout` per URL: they are asked in turn.
    public var gatherBound: Duration? { .nanoseconds(timeout * Int64(urls.count)) }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let client = try ProbeHTTP.client(timeout: timeout, insecure: insecure, followRedirects: true)
        defer { try? client.syncShutdown() }
        var points: [Point] = []
        var failures: [String] = []
        for url in urls {
            do {
                var request = try HTTPClient.Request(url: url)
                request.headers.add(name: "Accept", value: "text/plain;version=0.0.4;q=1,*/*;q=0.1")
                if !bearerToken.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(bearerToken)") }
                if !username.isEmpty {
                    request.headers.add(name: "Authorization", value: "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
                }
                let response = try client.execute(request: request, deadline: .now() + .nanoseconds(timeout)).wait()
                guard (200..<300).contains(response.status.code) else {
                    failures.append("\(url) answered \(response.status.code) \(response.status.reasonPhrase)")
                    continue
                }
                let body = response.body.map { Array($0.readableBytesView) } ?? []
                guard body.count <= Self.maxBody else {
                    failures.append("\(url) sent \(body.count) bytes, over the limit of \(Self.maxBody)")
                    continue
                }
                let (samples, errors) = PrometheusText.parse(String(decoding: body, as: UTF8.self), time: context.time)
                for error in errors.prefix(3) { context.logger.warning("prometheus: \(url): \(error)") }
                points += samples.map { sample in
                    var point = sample
                    var tags = point.tags.dictionary
                    tags["url"] = url
                    point.tags = Tags(tags)
                    return point
                }
            } catch {
                failures.append("\(url): \(error)")
            }
        }
        if !failures.isEmpty {
            if failures.count == urls.count { throw CollectorError(Self.name, failures.joined(separator: "; ")) }
            for failure in failures { context.logger.error("prometheus: \(failure)") }
        }
        return points
    }
}
