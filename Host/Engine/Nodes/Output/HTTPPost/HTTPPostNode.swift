import Foundation
import TockModel

/// `|httpPost([url])`: POSTs each point or batch as Kapacitor's row JSON (`{"series":[row]}` and a newline,
/// `Content-Type: application/json`), or as the endpoint's row template, and passes the data on
/// (Kapacitor: http_post.go).
///
/// The requests go out one at a time from a bounded queue, so a receiver that is down or slow never stalls
/// the task: each request has a timeout, a request that finds the queue full is dropped, and both count as
/// errors of the node, logged with the URL. With `.codeField(name)` the data waits for its response and
/// carries the status code (0 when the request failed below HTTP or was dropped).
final class HTTPPostNode: Node {
    /// Where and how the requests go: the URL (a Go template, executed with the row) and the endpoint's
    /// headers, basic auth and row template.
    struct Target: Sendable {
        var url: URLTemplate
        var headers: [(name: String, value: String)]
        var basicAuth: HTTPPostEndpoint.BasicAuth?
        var rowTemplate: AlertTemplate?
    }

    enum URLTemplate: Sendable {
        case literal(String)
        case template(AlertTemplate)
    }

    /// At most this many requests wait (or are in flight) per node; more are dropped and counted.
    static let queueCapacity = 256

    let target: Target
    /// The script's `.header(k, v)`: set after the endpoint's (replacing one of the same name).
    let headers: [(name: String, value: String)]
    let codeField: String?
    let captureResponse: Bool
    /// Nanoseconds; 0 for the poster's default (60 s).
    let timeout: Int64
    private var queue: HTTPPostQueue?

    let poster: any HTTPPoster

    init(target: Target, headers: [(name: String, value: String)], codeField: String?, captureResponse: Bool, timeout: Int64,
         poster: any HTTPPoster) {
        self.poster = poster
        self.target = target
        self.headers = headers
        self.codeField = codeField
        self.captureResponse = captureResponse
        self.timeout = timeout
    }

    func start(output: any NodeOutput) throws {
        queue = HTTPPostQueue(capacity: Self.queueCapacity, output: output, codeField: codeField, captureResponse: captureResponse,
                              poster: poster)
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        guard let queue else { return }
        let request: (OutboundPost, String)
        do {
            request = try self.request(for: message)
        } catch {
            output.countError(HTTPPostError("failed to POST data: \(error)"))
            output.emit(Self.withCode(message, 0, field: codeField))
            return
        }
        if codeField == nil { output.emit(message) }
        if !queue.submit(request.0, url: request.1, message: codeField == nil ? nil : message) {
            output.countError(HTTPPostError(
                "POST to \(request.1) dropped: \(Self.queueCapacity) requests are already waiting for the receiver"))
            if let codeField { output.emit(Self.withCode(message, 0, field: codeField)) }
        }
    }

    func stop(output: any NodeOutput) -> StopResult {
        guard let queue else { return .done }
        return queue.stop() ? .done : .pending
    }

    /// The request Kapacitor's postRow builds for `message`, and its URL.
    func request(for message: Message) throws -> (OutboundPost, String) {
        let row = SeriesRow(message)
        var mapped: TemplateValue?
        func mappedRow() -> TemplateValue {
            if let mapped { return mapped }
            let m = Self.mappedRow(row)
            mapped = m
            return m
        }
        var all: [(name: String, value: String)] = target.headers
        let body: [UInt8]
        if let template = target.rowTemplate {
            body = Array(try template.render(mappedRow()).utf8)
        } else {
            body = Array((Series.result([row]) + "\n").utf8)
        }
        let urlText: String
        switch target.url {
        case .literal(let s): urlText = s
        case .template(let t): urlText = try t.render(mappedRow())
        }
        guard let url = URL(string: urlText), url.scheme == "http" || url.scheme == "https" else {
            throw HTTPPostError("invalid URL \"\(urlText)\"")
        }
        if let auth = target.basicAuth, !auth.username.isEmpty, !auth.password.isEmpty {
            let credentials = Data("\(auth.username):\(auth.password)".utf8).base64EncodedString()
            all.append(("Authorization", "Basic " + credentials))
        }
        // Kapacitor sets a Content-Type only for the row JSON.
        if target.rowTemplate == nil { all.append(("Content-Type", "application/json")) }
        all += headers
        return (OutboundPost(url: url.absoluteString, body: body, headers: all, timeout: timeout), urlText)
    }

    /// Kapacitor's mappedRow: `Name`, `Tags`, and `Values` as one map of column to value per row.
    static func mappedRow(_ row: SeriesRow) -> TemplateValue {
        let values: [TemplateValue] = row.values.map { cells in
            var entries: [(key: String, value: TemplateValue)] = []
            for (column, cell) in zip(row.columns, cells) {
                let v: TemplateValue = switch cell {
                case .time(let t): .time(t)
                case .value(let f): TemplateValue(f)
                case .tag(let s): .string(s)
                case .null: .null
                }
                entries.append((column, v))
            }
            entries.sort { $0.key < $1.key }
            return .anyMap(entries)
        }
        return .record(typeName: "*kapacitor.mappedRow", [
            ("Name", .string(row.name)),
            ("Tags", .stringMap(row.tags.map { (key: $0.0, value: $0.1) })),
            ("Values", .list(elementType: "map[string]interface {}", values)),
        ])
    }

    /// `message` with `field` = `code` on every point (unchanged without a field).
    static func withCode(_ message: Message, _ code: Int, field: String?) -> Message {
        guard let field else { return message }
        switch message {
        case .point(var p):
            p.fields[field] = .int(Int64(code))
            return .point(p)
        case .batch(var b):
            for i in b.points.indices { b.points[i].fields[field] = .int(Int64(code)) }
            return .batch(b)
        }
    }
}

/// A failed or dropped POST of an `httpPost` node.
struct HTTPPostError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
