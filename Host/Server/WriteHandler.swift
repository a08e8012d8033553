import CompressNIO
import Engine
import Foundation
import Hummingbird
import LineProtocol
import Synchronization
import TockModel

/// `POST /write` (and `/kapacitor/v1/write`): InfluxDB 1.x line protocol into the running stream tasks.
///
/// The body is parsed as it arrives (gzip-decoded on the fly when `Content-Encoding: gzip`) and handed to the
/// tasks in slices, so a request of any size needs little memory. Bad lines are skipped: the good points are
/// delivered and the answer is 400 naming the first bad line with its line and column.
struct WriteHandler: Sendable {
    let master: TaskMaster
    let metrics: Metrics
    let defaultRetentionPolicy: String
    /// In bytes after decoding; 0: no limit.
    let maxBodySize: Int
    /// Points handed to the tasks at a time.
    static let sliceSize = 5_000
    /// Parsers between requests, so that their caches of series keys and field-key lists stay warm.
    let parsers = ParserPool()

    func handle(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let db = query.get("db"), !db.isEmpty else { throw APIError(.badRequest, "database is required") }
        var rp = query.get("rp") ?? ""
        if rp.isEmpty { rp = defaultRetentionPolicy.isEmpty ? "autogen" : defaultRetentionPolicy }
        let precisionText = query.get("precision") ?? ""
        guard let precision = Precision(precisionText) else {
            throw APIError(.badRequest, "invalid precision \"\(precisionText)\": use n, u, ms, s, m or h")
        }
        if maxBodySize > 0, let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodySize {
            throw APIError(.payloadTooLarge, "request body of \(length) bytes is larger than the limit of \(maxBodySize)")
        }
        let encoding = request.headers[.contentEncoding]?.lowercased() ?? ""
        guard encoding.isEmpty || encoding == "identity" || encoding == "gzip" else {
            throw APIError(.badRequest, "unsupported Content-Encoding \"\(encoding)\": use gzip or none")
        }

        let runners = master.runners(database: db, retentionPolicy: rp)
        var stream = StreamingLineParser(parsers.take(precision: precision, defaultTime: nowNanoseconds(),
                                                      database: db, retentionPolicy: rp))
        defer { parsers.put(stream.parser) }
        var state = State(database: db, retentionPolicy: rp)
        state.points.reserveCapacity(Self.sliceSize)
        let decompressor = encoding == "gzip" ? try ZlibDecompressor(algorithm: .gzip) : nil
        var window = ByteBufferAllocator().buffer(capacity: decompressor == nil ? 0 : 64 * 1024)

        for try await var chunk in request.body {
            if let decompressor {
                do {
                    try chunk.decompressStream(with: decompressor, window: &window) { decoded in
                        try feed(decoded, &stream, &state, runners)
                    }
                } catch let error as APIError {
                    throw error
                } catch {
                    throw APIError(.badRequest, "invalid gzip body: \(error)")
                }
            } else {
                try feed(chunk, &stream, &state, runners)
            }
        }
        state.note(stream.finish(into: &state.points))
        deliver(&state, runners)
        metrics.writeRequested()

        if state.bytes == 0 { return Response(status: .ok) }
        if let first = state.firstError {
            metrics.writeFailed(badLines: state.badLines)
            var message = "partial write: unable to parse line \(first.line), column \(first.column): \(first.message)"
            if !first.text.isEmpty { message += ": \(first.text)" }
            message += " (\(state.badLines) bad line\(state.badLines == 1 ? "" : "s") dropped, \(state.delivered) point\(state.delivered == 1 ? "" : "s") written)"
            throw APIError(.badRequest, message)
        }
        return Response(status: .noContent)
    }

    struct State {
        var database: String
        var retentionPolicy: String
        var points: [Point] = []
        var bytes = 0
        var delivered = 0
        var badLines = 0
        var firstError: LineProtocolError?

        mutating func note(_ errors: [LineProtocolError]) {
            guard !errors.isEmpty else { return }
            if firstError == nil { firstError = errors[0] }
            badLines += errors.count
        }
    }

    private func feed(_ buffer: ByteBuffer, _ stream: inout StreamingLineParser, _ state: inout State,
                      _ runners: [TaskRunner]) throws {
        state.bytes += buffer.readableBytes
        if maxBodySize > 0 && state.bytes > maxBodySize {
            throw APIError(.payloadTooLarge, "request body is larger than the limit of \(maxBodySize) bytes")
        }
        let errors = buffer.withUnsafeReadableBytes { stream.feed($0, into: &state.points) }
        state.note(errors)
        if state.points.count >= Self.sliceSize { deliver(&state, runners) }
    }

    private func deliver(_ state: inout State, _ runners: [TaskRunner]) {
        guard !state.points.isEmpty else { return }
        // Moved out, so that the (last) task gets the only reference and can change the points in place.
        var points: [Point] = []
        points.reserveCapacity(Self.sliceSize)
        swap(&points, &state.points)
        metrics.received(points, database: state.database, retentionPolicy: state.retentionPolicy)
        state.delivered += points.count
        for runner in runners { runner.write(points) }
    }
}

/// A few line-protocol parsers kept between requests (a parser remembers recent series keys, so a client that sends
/// the same series again and again is parsed without unescaping or allocating their names and tags).
final class ParserPool: Sendable {
    private let parsers = Mutex<[LineProtocolParser]>([])
    /// Parsers kept at most (one per concurrent request is enough).
    static let capacity = 16

    /// A parser set up for one request: a kept one when there is one, else a new one.
    func take(precision: Precision, defaultTime: Timestamp, database: String, retentionPolicy: String) -> LineProtocolParser {
        if var parser = parsers.withLock({ $0.popLast() }) {
            parser.precision = precision
            parser.defaultTime = defaultTime
            parser.database = database
            parser.retentionPolicy = retentionPolicy
            return parser
        }
        return LineProtocolParser(precision: precision, defaultTime: defaultTime, database: database,
                                  retentionPolicy: retentionPolicy)
    }

    /// Keeps `parser` for a later request (dropped when the pool is full).
    func put(_ parser: LineProtocolParser) {
        parsers.withLock { if $0.count < Self.capacity { $0.append(parser) } }
    }
}
