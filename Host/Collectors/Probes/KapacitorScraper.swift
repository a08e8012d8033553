import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import TockModel

/// Kapacitor's `[[scraper]]` service as a collector: scrapes every discovered target
/// (`scheme://address/metrics-path?params`) and reports each sample as Kapacitor does: the metric's name as the
/// measurement, one field `value`, the sample's labels, the target's discovery labels, `instance` (the address) and
/// `__name__` as tags. NaN samples are left out, as Kapacitor does (and infinities, which line protocol cannot hold).
/// After each target, Prometheus' own series for it: `up` (1 or 0), `scrape_duration_seconds` and
/// `scrape_samples_scraped`. Targets in `blacklist` are not scraped.
///
/// Configured from `[[scraper]]` with `[[static-discovery]]` / `[[file-discovery]]`, or as `[[collectors.scraper]]`
/// with the options `targets`, `labels` (`"k=v"`), `files`, `refresh_interval`, `scheme`, `metrics_path`, `params`
/// (`"k=v"`), `username`, `password`, `bearer_token`, `ssl_ca`, `insecure_skip_verify`, `blacklist`, `timeout`.
public struct KapacitorScraperCollector: Collector {
    public static let name = "scraper"
    public static let summary = "Kapacitor's [[scraper]]: Prometheus targets (static or file discovery), one measurement per metric, field value"

    var targets: DiscoveredTargets
    let scheme: String
    let metricsPath: String
    let query: String
    let timeout: Int64
    let authorization: String?
    let insecure: Bool
    let ca: String
    let blacklist: Set<String>
    static let maxBody = 64 << 20

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        let labels = try Self.pairs(o.strings("labels", default: []), key: "labels")
        let statics = try o.strings("targets", default: []).map { TargetDiscovery.Target(address: $0, labels: labels) }
        let files = try o.strings("files", default: [])
        let refresh = try o.string("refresh_interval", default: "5m")
        guard let refreshNs = GoDuration.parse(refresh), refreshNs > 0 else {
            throw CollectorError(Self.name, "refresh_interval \"\(refresh)\" is not a duration")
        }
        guard !statics.isEmpty || !files.isEmpty else {
            throw CollectorError(Self.name, "no targets: give targets or files (static or file discovery)")
        }
        targets = DiscoveredTargets(TargetDiscovery(staticTargets: statics, files: files, refreshInterval: .nanoseconds(refreshNs)))
        scheme = try o.string("scheme", default: "http")
        guard scheme == "http" || scheme == "https" else { throw CollectorError(Self.name, "scheme must be http or https, not \"\(scheme)\"") }
        let path = try o.string("metrics_path", default: "/metrics")
        metricsPath = path.hasPrefix("/") ? path : "/" + path
        let params = try Self.pairs(o.strings("params", default: []), key: "params")
        query = params.keys.sorted().map { key in
            let encode = { (s: String) in s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }
            return "\(encode(key))=\(encode(params[key]!))"
        }.joined(separator: "&")
        let text = try o.string("timeout", default: "10s")
        guard let ns = GoDuration.parse(text), ns > 0 else { throw CollectorError(Self.name, "timeout \"\(text)\" is not a duration") }
        timeout = ns
        let username = try o.string("username", default: "")
        let password = try o.string("password", default: "")
        let token = try o.string("bearer_token", default: "")
        if !token.isEmpty {
            authorization = "Bearer \(token)"
        } else if !username.isEmpty {
            authorization = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
        ca = try o.string("ssl_ca", default: "")
        insecure = try o.bool("insecure_skip_verify", default: false)
        blacklist = Set(try o.strings("blacklist", default: []))
        try o.finish()
    }

    static func pairs(_ list: [String], key: String) throws(CollectorError) -> [String: String] {
        var pairs: [String: String] = [:]
        for item in list {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw CollectorError(name, "\(key) entry \"\(item)\" must be key=value")
            }
            pairs[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        return pairs
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let targets = self.targets.current { context.logger.error("\($0)") }.filter { !blacklist.contains($0.address) }
        guard !targets.isEmpty else { return [] }
        let client = try ProbeHTTP.client(timeout: timeout, insecure: insecure, followRedirects: true, ca: ca, collector: Self.name)
        defer { try? client.syncShutdown() }
        var points: [Point] = []
        for target in targets {
            let started = ContinuousClock.now
            var samples: [Point] = []
            var up = true
            let url = "\(scheme)://\(target.address)\(metricsPath)\(query.isEmpty ? "" : "?" + query)"
            do {
                var request = try HTTPClient.Request(url: url)
                request.headers.add(name: "Accept", value: "text/plain;version=0.0.4;q=1,*/*;q=0.1")
                if let authorization { request.headers.add(name: "Authorization", value: authorization) }
                let response = try client.execute(request: request, deadline: .now() + .nanoseconds(timeout)).wait()
                let body = response.body.map { Array($0.readableBytesView) } ?? []
                if !(200..<300).contains(response.status.code) {
                    up = false
                    context.logger.error("scraper: \(url) answered \(response.status.code) \(response.status.reasonPhrase)")
                } else if body.count > Self.maxBody {
                    up = false
                    context.logger.error("scraper: \(url) sent \(body.count) bytes, over the limit of \(Self.maxBody)")
                } else {
                    let (raw, errors) = PrometheusText.samples(String(decoding: body, as: UTF8.self))
                    for error in errors.prefix(3) { context.logger.warning("scraper: \(url): \(error)") }
                    for sample in raw where sample.value.isFinite {
                        samples.append(point(sample.name, sample.labels, sample.value, target: target, time: context.time))
                    }
                }
            } catch {
                up = false
                context.logger.error("scraper: \(url): \(error)")
            }
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            points += samples
            points.append(point("up", [:], up ? 1 : 0, target: target, time: context.time))
            points.append(point("scrape_duration_seconds", [:], seconds, target: target, time: context.time))
            points.append(point("scrape_samples_scraped", [:], Double(samples.count), target: target, time: context.time))
        }
        return points
    }

    func point(_ name: String, _ labels: [String: String], _ value: Double, target: TargetDiscovery.Target, time: Timestamp) -> Point {
        var tags = target.labels.merging(labels) { _, sample in sample }
        tags["instance"] = target.address
        tags["__name__"] = name
        tags["job"] = nil  // Kapacitor turns the job into the database and retention policy
        return Point(name: name, tags: Tags(tags), fields: Fields([("value", .double(value))]), time: time)
    }
}
