import Engine
import Foundation
import Hummingbird
import LineProtocol
import Synchronization
import TockModel

/// `POST /write` (and `/kapacitor/v1/write`): InfluxDB 1.x line protocol into the running stream tasks.
///
/// As InfluxDB does, the whole body is read (and gzip-decoded when `Content-Encoding: gzip`) before any of it is
/// parsed: a body that does not arrive whole — cut short, corrupt gzip, bad chunked encoding, over
/// `[http] max-body-size`, slower than `[http] read-timeout` — delivers no point at all, so a client's retry
/// delivers nothing twice. The body is then parsed and handed to the tasks in slices. Bad lines are skipped: the
/// good points are delivered and the answer is 400 naming the first bad line with its line and column.
struct WriteHandler: Sendable {
    /// The running tasks that read a database and retention policy.
    let routes: @Sendable (_ database: String, _ retentionPolicy: String) -> StreamRoute
    let metrics: Metrics
    let defaultRetentionPolicy: String
    /// In bytes after decoding; 0: no limit.
    let maxBodySize: Int
    /// How long the body may take to arrive, in nanoseconds from the start of the request; 0: no limit.
    let readTimeout: Int64
    /// Points handed to the tasks at a time.
    static let sliceSize = 5_000
    /// Bytes of the body handed to the parser at a time.
    static let parseChunkSize = 256 * 1024
    /// Parsers between requests, so that their caches of series keys and field-key lists stay warm.
    let parsers = ParserPool()
    /// Stream recordings, which see every point delivered.
    let taps: PointTaps?
    /// The host inventory, which registers the hosts of every point delivered.
    let hosts: HostInventory?

    init(routes: @escaping @Sendable (String, String) -> StreamRoute, metrics: Metrics, defaultRetentionPolicy: String,
         maxBodySize: Int, readTimeout: Int64, taps: PointTaps? = nil, hosts: HostInventory? = nil) {
        self.routes = routes
        self.taps = taps
        self.hosts = hosts
        self.metrics = metrics
        self.defaultRetentionPolicy = defaultRetentionPolicy
        self.maxBodySize = maxBodySize
        self.readTimeout = readTimeout
    }

    init(master: TaskMaster, metrics: Metrics, defaultRetentionPolicy: String, maxBodySize: Int, readTimeout: Int64,
         hosts: HostInventory? = nil) {
        self.init(routes: { master.route(database: $0, retentionPolicy: $1) }, metrics: metrics,
                  defaultRetentionPolicy: defaultRetentionPolicy, maxBodySize: maxBodySize, readTimeout: readTimeout,
                  taps: master.taps, hosts: hosts)
    }

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
        let length = request.headers[.contentLength].flatMap { Int($0) }
        let body = try await readBody(request.body, gzip: encoding == "gzip", length: length)
        metrics.writeRequested()
        // Lines without a timestamp get the time the body was read, as in InfluxDB.
        let arrival = nowNanoseconds()
        if body.readableBytes == 0 { return Response(status: .ok) }

        let state = body.withUnsafeReadableBytes { bytes in
            ingest(bytes, database: db, retentionPolicy: rp, precision: precision, arrival: arrival)
        }

        if let first = state.firstError {
            metrics.writeFailed(badLines: state.badLines)
            var message = "partial write: unable to parse line \(first.line), column \(first.column): \(first.message)"
            if !first.text.isEmpty { message += ": \(first.text)" }
            message += " (\(state.badLines) bad line\(state.badLines == 1 ? "" : "s") dropped, \(state.delivered) point\(state.delivered == 1 ? "" : "s") written)"
            throw APIError(.badRequest, message)
        }
        return Response(status: .noContent)
    }

    /// Parses `bytes` as line protocol of `database`.`retentionPolicy` and hands the good points to the running
    /// tasks that read it, counted in the ingress metrics; bad lines are counted and the first kept (the caller
    /// reports them). `/write` bodies, subscription writes and UDP datagrams all arrive here.
    func ingest(_ bytes: UnsafeRawBufferPointer, database: String, retentionPolicy: String, precision: Precision,
                arrival: Timestamp) -> State {
        let route = routes(database, retentionPolicy)
        var stream = StreamingLineParser(parsers.take(precision: precision, defaultTime: arrival,
                                                      database: database, retentionPolicy: retentionPolicy))
        defer { parsers.put(stream.parser) }
        var state = State(database: database, retentionPolicy: retentionPolicy)
        state.points.reserveCapacity(min(Self.sliceSize, bytes.count / 16 + 1))
        var offset = 0
        while offset < bytes.count {
            let n = min(Self.parseChunkSize, bytes.count - offset)
            state.note(stream.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]), into: &state.points))
            if state.points.count >= Self.sliceSize { deliver(&state, route) }
            offset += n
        }
        state.note(stream.finish(into: &state.points))
        deliver(&state, route)
        return state
    }

    struct State {
        var database: String
        var retentionPolicy: String
        var points: [Point] = []
        var delivered = 0
        var badLines = 0
        var firstError: LineProtocolError?

        mutating func note(_ errors: [LineProtocolError]) {
            guard !errors.isEmpty else { return }
            if firstError == nil { firstError = errors[0] }
            badLines += errors.count
        }
    }

    // MARK: Reading the body

    /// The whole body, decoded, within `readTimeout`.
    /// - Parameter length: the `Content-Length`, when the request has one.
    func readBody(_ body: RequestBody, gzip: Bool, length: Int?) async throws -> ByteBuffer {
        guard readTimeout > 0 else { return try await collect(body, gzip: gzip, length: length) }
        let timeout = readTimeout
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await collect(body, gzip: gzip, length: length) }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeout))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let buffer = first else {
                throw APIError(.requestTimeout, "the request body did not arrive within [http] read-timeout of \(GoDuration.format(timeout)): nothing was written")
            }
            return buffer
        }
    }

    /// Reads every chunk of `body` into one buffer, gzip-decoded when `gzip`, up to `maxBodySize` decoded bytes.
    func collect(_ body: RequestBody, gzip: Bool, length: Int?) async throws -> ByteBuffer {
        var text = ByteBuffer()
        var received = 0
        var decoder = gzip ? try GzipBodyDecoder() : nil
        let limit = maxBodySize
        func append(_ decoded: ByteBuffer) throws {
            if limit > 0 && text.readableBytes + decoded.readableBytes > limit {
                throw APIError(.payloadTooLarge, "request body is larger than the limit of \(limit) bytes\(gzip ? " after gzip decoding" : ""): nothing was written")
            }
            text.writeImmutableBuffer(decoded)
        }
        do {
            for try await var chunk in body {
                received += chunk.readableBytes
                if decoder != nil {
                    try decoder!.decode(&chunk, append)
                } else {
                    try append(chunk)
                }
            }
            if let length, received != length {
                // The connection ended before the body did (the HTTP layer may report that as a normal end).
                throw APIError(.badRequest, "the request body ended after \(received) of its \(length) bytes (Content-Length): nothing was written")
            }
            try decoder?.finish()
        } catch let error as APIError {
            throw error
        } catch let error as GzipBodyDecoder.Failure {
            throw APIError(.badRequest, "\(error): nothing was written")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The HTTP layer could not read the body (bad chunked encoding, the connection cut mid-body, ...).
            throw APIError(.badRequest, "cannot read the request body: \(error): nothing was written")
        }
        return text
    }

    // MARK: Delivering

    private func deliver(_ state: inout State, _ route: StreamRoute) {
        guard !state.points.isEmpty else { return }
        // Moved out, so that the (last) task gets the only reference and can change the points in place.
        var points: [Point] = []
        points.reserveCapacity(Self.sliceSize)
        swap(&points, &state.points)
        metrics.received(points, database: state.database, retentionPolicy: state.retentionPolicy)
        state.delivered += points.count
        taps?.deliver(points, database: state.database, retentionPolicy: state.retentionPolicy)
        // One array for every task that reads it all (each task's queue references it), counted once in the tasks'
        // queue budget; the others get their measurements' points. The tasks get them before the host inventory
        // looks at them (its per-point bookkeeping took most of a slice's ingest time, and held every alert back).
        route.write(points)
        hosts?.observe(points, database: state.database, arrival: nowNanoseconds())
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
