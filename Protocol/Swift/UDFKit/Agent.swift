import Foundation
import UDFWireCodec
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What ended an agent other than a clean EOF.
public enum UDFAgentError: Error, Sendable, CustomStringConvertible {
    /// A handler threw or the host sent something unusable; the host was sent this message as an
    /// `ErrorResponse` before the agent stopped.
    case requestFailed(String)
    /// Reading or writing the connection failed.
    case io(String)

    public var description: String {
        switch self {
        case .requestFailed(let message): return message
        case .io(let message): return message
        }
    }
}

/// Serves one connection: reads Requests, calls the handler, writes Responses.
///
/// Responses are buffered and written after every management response (info, init, snapshot,
/// restore, keepalive) and whenever all input received so far has been handled, so points are
/// batched while the host keeps sending and nothing waits in the buffer when it stops: no
/// unbuffered mode is needed. Keepalives are answered by the agent itself.
public struct Agent<Handler: UDFHandler> {
    /// The handler; after ``run()`` it holds the state the requests left it in.
    public private(set) var handler: Handler
    private let input: Int32
    private let output: Int32
    private var out = UDFOutput()
    private var decoder: FrameDecoder

    /// An agent reading Requests from `input` and writing Responses to `output` (file descriptors,
    /// standard input and output by default). The agent does not close them.
    public init(handler: Handler, input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO,
                maxFrameSize: Int = FrameDecoder.defaultMaxFrameSize) {
        self.handler = handler
        self.input = input
        self.output = output
        decoder = FrameDecoder(maxFrameSize: maxFrameSize)
    }

    /// Handles requests until the input ends.
    ///
    /// Returns at EOF after writing every pending response. A handler error or a malformed request
    /// is reported to the host as an `ErrorResponse` ("error processing request of type point: …",
    /// as Kapacitor's Python agent words it) and then thrown as ``UDFAgentError/requestFailed(_:)``.
    /// `SIGPIPE` is ignored so that a vanished host is an error, not a silent exit.
    public mutating func run() throws(UDFAgentError) {
        signal(SIGPIPE, SIG_IGN)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            let n = try readSome(into: chunk)
            if n == 0 {
                do {
                    try decoder.finish()
                } catch {
                    try fail("error reading request: \(error)")
                }
                try flush()
                return
            }
            decoder.append(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            while true {
                let frame: ArraySlice<UInt8>
                do {
                    guard let f = try decoder.nextFrame() else { break }
                    frame = f
                } catch {
                    try fail("error reading request: \(error)")
                }
                try handle(frame)
                if out.buffer.count >= 1 << 16 { try flush() }
            }
            try flush()
        }
    }

    private mutating func handle(_ frame: ArraySlice<UInt8>) throws(UDFAgentError) {
        // Points and batches through the hand-written codec, anything else through swift-protobuf.
        let data: AgentData?
        do {
            data = try frame.withUnsafeBytes { raw throws(WireFormatError) in try AgentCodec.decodeData(raw) }
        } catch {
            try fail("error processing request of type unknown: malformed request: \(error)")
        }
        if let data {
            try handleData(data)
            return
        }
        let request: Agent_Request
        do {
            request = try Agent_Request(frame: frame)
        } catch {
            try fail("error processing request of type unknown: \(error)")
        }
        var kind = "unknown"
        do {
            switch request.message {
            case .point(let p)?:
                kind = "point"
                try handler.point(p, output: &out)
            case .begin(let b)?:
                kind = "begin"
                try handler.beginBatch(b, output: &out)
            case .end(let e)?:
                kind = "end"
                try handler.endBatch(e, output: &out)
            case .keepalive(let k)?:
                kind = "keepalive"
                var r = Agent_Response()
                r.keepalive.time = k.time
                try respond(r)
            case .info?:
                kind = "info"
                var r = Agent_Response()
                r.info = try handler.info()
                try respond(r)
            case .init_p(let i)?:
                kind = "init"
                var r = Agent_Response()
                r.init_p = try Self.initResponse(handler.initialize(i))
                try respond(r)
            case .snapshot?:
                kind = "snapshot"
                var r = Agent_Response()
                r.snapshot.snapshot = try handler.snapshot()
                try respond(r)
            case .restore(let s)?:
                kind = "restore"
                var r = Agent_Response()
                let result = try handler.restore(s.snapshot)
                r.restore.success = result == .success
                if case .failure(let message) = result { r.restore.error = message }
                try respond(r)
            case nil:
                throw UDFHandlerError("the request has no message")
            }
        } catch let error as UDFAgentError {
            throw error
        } catch {
            try fail("error processing request of type \(kind): \(error)")
        }
    }

    private mutating func handleData(_ data: AgentData) throws(UDFAgentError) {
        var kind = "point"
        do {
            switch data {
            case .point(let p):
                try handler.point(p, output: &out)
            case .begin(let b):
                kind = "begin"
                try handler.beginBatch(b, output: &out)
            case .end(let e):
                kind = "end"
                try handler.endBatch(e, output: &out)
            }
        } catch {
            try fail("error processing request of type \(kind): \(error)")
        }
    }

    private static func initResponse(_ result: UDFResult) -> Agent_InitResponse {
        var r = Agent_InitResponse()
        switch result {
        case .success: r.success = true
        case .failure(let message): r.error = message
        }
        return r
    }

    /// Queues a management response and writes everything pending.
    private mutating func respond(_ response: Agent_Response) throws {
        try out.emit(response)
        try flush()
    }

    /// Reports `message` to the host as an ErrorResponse, then stops the agent with it.
    private mutating func fail(_ message: String) throws(UDFAgentError) -> Never {
        var r = Agent_Response()
        r.error.error = message
        try? out.emit(r)
        try? flush()
        throw .requestFailed(message)
    }

    private func readSome(into buf: UnsafeMutableRawBufferPointer) throws(UDFAgentError) -> Int {
        while true {
            let n = read(input, buf.baseAddress, buf.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .io("read error: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes every pending response.
    public mutating func flush() throws(UDFAgentError) {
        if out.buffer.isEmpty { return }
        let fd = output
        let result: Int32 = out.buffer.withUnsafeBytes { buf in
            var offset = 0
            while offset < buf.count {
                let n = write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return 0
        }
        out.buffer.removeAll(keepingCapacity: true)
        if result != 0 { throw .io("write error: \(String(cString: strerror(result)))") }
    }
}
