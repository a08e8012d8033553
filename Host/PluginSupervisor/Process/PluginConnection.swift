import Glibc
import Synchronization
import TockModel
import UDFProtocol

/// Where a plugin lives: a program the host starts, or a Unix socket a running program listens on.
public enum PluginEndpoint: Sendable, Hashable {
    /// A program started per connection; `environment` is added to the host's own environment.
    case process(program: String, arguments: [String], environment: [String: String])
    /// A Unix-domain stream socket; one connection per use.
    case socket(path: String)
}

/// Why a connection ended before the host closed it.
public enum ConnectionFailure: Error, Sendable, CustomStringConvertible {
    /// The child's output ended while the host was still sending (a crash, or an early exit).
    case exited(Termination)
    /// A socket plugin closed the connection while the host was still sending.
    case connectionClosed
    /// Nothing arrived for longer than the keepalive timeout (nanoseconds).
    case keepaliveTimeout(silence: UInt64, timeout: UInt64)
    /// After the host closed the input, the plugin neither finished its output nor went quiet in time.
    case drainTimeout(timeout: UInt64)
    /// A frame's length prefix announced more than the configured maximum.
    case frameTooLarge(size: UInt64, limit: Int)
    /// The bytes were not a length-prefixed frame, or a frame did not decode.
    case malformedFrame(String)
    case readError(String)
    case writeError(String)
    /// The plugin reported an error of its own (a UDF's `ErrorResponse`).
    case errorResponse(String)
    /// The layer above found something wrong with a message (an unexpected response); says what it did.
    case protocolError(String)

    /// What happened, in a few words (`exited with status 1`, `sent a malformed frame`).
    public var headline: String {
        switch self {
        case .exited(let t): return t.description
        case .connectionClosed: return "closed the connection"
        case .keepaliveTimeout(_, let timeout):
            return "did not answer a keepalive within \(formatNanos(timeout))"
        case .drainTimeout(let timeout):
            return "did not finish within \(formatNanos(timeout)) after its input was closed"
        case .frameTooLarge(let size, let limit):
            return "sent a frame of \(size) bytes, over the limit of \(limit) bytes (max-frame-size)"
        case .malformedFrame: return "sent a malformed frame"
        case .readError: return "read error"
        case .writeError: return "write error"
        case .errorResponse: return "sent an error"
        case .protocolError(let what): return what
        }
    }

    /// The specifics, when there are any.
    public var detail: String? {
        switch self {
        case .malformedFrame(let d), .readError(let d), .writeError(let d), .errorResponse(let d): return d
        default: return nil
        }
    }

    public var description: String { headline + (detail.map { ": " + $0 } ?? "") }
}

/// How a connection ended: cleanly after ``PluginConnection/closeInput()``, or with a failure.
public struct ConnectionEnd: Sendable {
    /// `nil` when the plugin finished its output after the host closed its input.
    public var failure: ConnectionFailure?
    /// How the child process ended (`nil` for sockets).
    public var termination: Termination?
    /// The last lines the child wrote to stderr, oldest first.
    public var stderrTail: [String]
}

/// The supervisor of one plugin connection: the one mechanism behind UDFs, collectors and notifiers.
///
/// It starts the program (or dials the socket), then runs four threads: a writer that drains a
/// bounded output buffer into the child's stdin, a reader that splits the child's stdout into
/// varint-length-prefixed frames (`FrameDecoder`), a stderr reader that logs lines and keeps the last ones, and a
/// watchdog that sends keepalives, fails the connection when the plugin goes quiet, and notices when the
/// program has exited. The first failure wins; the process group is then stopped (SIGTERM, then SIGKILL
/// after a grace period) and ``Handlers/ended`` reports it once, after every frame that arrived has been
/// handed over. Whatever the program started is stopped when it exits (see ``ChildProcess``).
package final class PluginConnection: @unchecked Sendable {
    package struct Options: Sendable {
        /// Names the connection in thread names.
        package var label: String
        /// Frames announcing more bytes than this fail the connection.
        package var maxFrameSize: Int = 64 << 20
        /// Keepalive timeout in nanoseconds; a keepalive goes out every half of it. 0 disables.
        package var keepaliveTimeout: UInt64 = 0
        /// How often ``Handlers/tick`` runs at least (a schedule such as periodic snapshots); 0: with the
        /// keepalives.
        package var tickInterval: UInt64 = 0
        /// Silence allowed before the first frame arrives (an interpreter loading its libraries), if
        /// longer than the keepalive timeout.
        package var startupTimeout: UInt64 = 10_000_000_000
        /// How long a stopping child gets before SIGTERM, and again before SIGKILL.
        package var grace: UInt64 = 1_000_000_000
        /// How long to keep retrying a socket that is not there yet.
        package var connectTimeout: UInt64 = 300_000_000_000
        /// Output bytes buffered before ``send(control:wake:_:)`` blocks.
        package var highWater: Int = 256 << 10
        /// Output bytes buffered by sends that do not wake the writer (`wake: false`) before the writer is woken
        /// anyway: a pipe's capacity, so that the child always has a full pipe to read.
        package var wakeThreshold: Int = 64 << 10
        /// stderr lines kept for error messages.
        package var stderrLinesKept: Int = 20
        /// How stdout is cut into messages (``maxFrameSize`` bounds a line too).
        package var framing: OutputFraming = .lengthPrefixed

        package init(label: String) { self.label = label }
    }

    package struct Handlers: Sendable {
        /// One complete frame (without its length prefix); reader thread. Throwing fails the connection.
        package var frame: @Sendable (UnsafeRawBufferPointer) throws -> Void
        /// Called on the reader thread after the frames of one read of the child's output have been handed to
        /// ``frame``, and before a failure or the end is reported: the end of a burst, where a layer that collects
        /// what the frames carry hands it on at once (one wake-up per burst instead of one per frame).
        package var burst: @Sendable () -> Void = {}
        /// One line the child wrote to stderr; stderr thread.
        package var stderrLine: @Sendable (String) -> Void = { _ in }
        /// The bytes of one framed keepalive request to send every half timeout.
        package var keepalive: @Sendable () -> [UInt8] = { [] }
        /// Called on every watchdog wake-up (at least every half timeout, or every second).
        package var tick: @Sendable () -> Void = {}
        /// Called once when the connection is over.
        package var ended: @Sendable (ConnectionEnd) -> Void

        package init(frame: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void,
                     burst: @escaping @Sendable () -> Void = {},
                     stderrLine: @escaping @Sendable (String) -> Void = { _ in },
                     keepalive: @escaping @Sendable () -> [UInt8] = { [] },
                     tick: @escaping @Sendable () -> Void = {},
                     ended: @escaping @Sendable (ConnectionEnd) -> Void) {
            self.frame = frame
            self.burst = burst
            self.stderrLine = stderrLine
            self.keepalive = keepalive
            self.tick = tick
            self.ended = ended
        }
    }

    package let options: Options
    private let handlers: Handlers
    private let process: ChildProcess?
    private let inputFD: Int32
    private let outputFD: Int32
    private let isSocket: Bool

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var pending: [UInt8] = []
    private var writerWaiting = false
    /// The writer should write what is pending (set by a waking send, ``flush()``, the wake threshold).
    private var writeRequested = false
    private var sendersWaiting = 0
    /// The writer should stop once the buffer is empty (closed by the host, a failure, a write error).
    private var inputClosing = false
    /// The host asked for the input to be closed: an end of output that follows is expected.
    private var closeRequested = false
    private var inputClosed = false
    private var writerDone = false
    private var stderrDone = true
    private var failure: ConnectionFailure?
    private var ended = false
    /// The socket's descriptor is closed: its number may already belong to another connection, so nothing
    /// may shut it down any more.
    private var socketClosed = false
    private var stderrTail: [String] = []
    private var writes = 0

    private let lastActivity: Atomic<UInt64>
    private let receivedFrame = Atomic<Bool>(false)

    /// Starts the program or dials the socket, then starts the connection's threads.
    package init(endpoint: PluginEndpoint, options: Options, handlers: Handlers) throws {
        self.options = options
        self.handlers = handlers
        self.lastActivity = Atomic(monotonicNanos())
        switch endpoint {
        case .process(let program, let arguments, let environment):
            let child = try ChildProcess.spawn(program: program, arguments: arguments, environment: environment,
                                               grace: options.grace)
            process = child
            inputFD = child.stdinFD
            outputFD = child.stdoutFD
            isSocket = false
            stderrDone = false
        case .socket(let path):
            let fd = try UnixSocket.connect(path: path, timeout: options.connectTimeout)
            process = nil
            inputFD = fd
            outputFD = fd
            isSocket = true
        }
        pending.reserveCapacity(options.highWater + 4096)
        startThread(name: "w:" + options.label) { [self] in writerLoop() }
        startThread(name: "r:" + options.label) { [self] in readerLoop() }
        if let child = process {
            startThread(name: "e:" + options.label) { [self] in stderrLoop(fd: child.stderrFD) }
        }
        startThread(name: "k:" + options.label) { [self] in watchdogLoop() }
    }

    /// The child's process ID (`nil` for sockets).
    package var pid: pid_t? { process?.pid }

    /// Whether a complete frame has arrived yet (the plugin is up).
    package var hasReceivedFrame: Bool { receivedFrame.load(ordering: .relaxed) }

    /// The last stderr lines so far.
    package var recentStderr: [String] { lock.withLock { stderrTail } }

    // MARK: Sending

    /// Appends frames written by `encode` to the output. Blocks while the output buffer is over its
    /// high-water mark (the child is not keeping up), unless `control` is set (keepalives, snapshots).
    /// Returns `false`, dropping the data, when the input is closed or the connection has failed.
    ///
    /// With `wake` false the writer is not woken for these bytes until ``flush()`` or until
    /// ``Options/wakeThreshold`` bytes are pending: a caller that sends a burst of small messages calls
    /// ``flush()`` after the last one, and the child's pipe gets one write per burst instead of one per message.
    @discardableResult
    package func send(control: Bool = false, wake: Bool = true, _ encode: (inout [UInt8]) throws -> Void) rethrows -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if !control {
            while pending.count >= options.highWater && !inputClosing && failure == nil {
                requestWriteLocked()
                sendersWaiting += 1
                lock.wait()
                sendersWaiting -= 1
            }
        }
        guard !inputClosing, failure == nil else { return false }
        try encode(&pending)
        if wake || control || pending.count >= options.wakeThreshold { requestWriteLocked() }
        return true
    }

    /// Has the writer write what is pending now (after sends with `wake: false`).
    package func flush() {
        lock.withLock { if !pending.isEmpty { requestWriteLocked() } }
    }

    /// Under `lock`: asks the writer for a write, waking it when it waits.
    private func requestWriteLocked() {
        writeRequested = true
        if writerWaiting { lock.broadcast() }
    }

    /// The number of times the writer has written to the plugin's input (a `write` call or a series of them for
    /// one buffer), for tests and statistics.
    package var writeCount: Int { lock.withLock { writes } }

    /// Closes the plugin's input once everything queued is written (stdin EOF, or a socket half-close).
    /// The plugin is expected to answer what it has and finish; ``Handlers/ended`` follows.
    package func closeInput() {
        lock.withLock {
            closeRequested = true
            inputClosing = true
            lock.broadcast()
        }
    }

    /// Fails the connection with `failure` (the first failure wins) and stops the plugin.
    package func abort(_ failure: ConnectionFailure) {
        let first: Bool = lock.withLock {
            guard self.failure == nil, !ended else { return false }
            self.failure = failure
            inputClosing = true
            lock.broadcast()
            // Under the lock, so that finish() cannot close the descriptor (and another connection reuse its
            // number) in between.
            if isSocket && !socketClosed { _ = shutdown(outputFD, Int32(SHUT_RDWR)) }
            return true
        }
        guard first else { return }
        if let child = process {
            child.signalGroup(SIGTERM)
            let grace = options.grace
            startThread(name: "x:" + options.label) {
                if child.waitForExit(timeout: grace) == nil { child.signalGroup(SIGKILL) }
            }
        }
    }

    /// Fails the connection like ``abort(_:)`` and waits (at most `timeout` nanoseconds) for the end to
    /// settle, so the stderr lines the plugin wrote before failing are all in the returned tail.
    package func abortAndSettle(_ failure: ConnectionFailure, timeout: UInt64 = 2_000_000_000) -> [String] {
        abort(failure)
        let deadline = monotonicNanos() + timeout
        return lock.withLock {
            while !ended && monotonicNanos() < deadline { lock.wait(until: deadline) }
            return stderrTail
        }
    }

    // MARK: Threads

    private func writerLoop() {
        var spare: [UInt8] = []
        spare.reserveCapacity(options.highWater + 4096)
        while true {
            lock.lock()
            while (pending.isEmpty || !writeRequested) && !inputClosing {
                writerWaiting = true
                lock.wait()
                writerWaiting = false
            }
            if pending.isEmpty || failure != nil {
                // Input closing with nothing left to write, or failed: stop writing.
                inputClosed = true
                lock.unlock()
                break
            }
            swap(&pending, &spare)
            writeRequested = false
            writes += 1
            if sendersWaiting > 0 { lock.broadcast() }
            lock.unlock()

            if let error = writeAll(spare) {
                spare.removeAll(keepingCapacity: true)
                lock.withLock {
                    inputClosed = true
                    inputClosing = true
                    lock.broadcast()
                }
                // EPIPE: the plugin closed its input (it exited); the reader reports how it ended.
                if error != EPIPE && error != ECONNRESET { abort(.writeError(errnoDescription(error))) }
                break
            }
            spare.removeAll(keepingCapacity: true)
        }
        // Done with the descriptor before saying so: finish() closes a socket once the writer is done, and a
        // shutdown after that could hit another connection that reused the number.
        if isSocket {
            _ = shutdown(inputFD, Int32(SHUT_WR))
        } else {
            close(inputFD)
        }
        lock.withLock {
            writerDone = true
            lock.broadcast()
        }
    }

    private func writeAll(_ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { raw -> Int32? in
            var offset = 0
            while offset < raw.count {
                let n = write(inputFD, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
    }

    private func readerLoop() {
        switch options.framing {
        case .lengthPrefixed: readOutput(with: FrameDecoder(maxFrameSize: options.maxFrameSize))
        case .lines: readOutput(with: LineDecoder(maxLineLength: options.maxFrameSize))
        }
    }

    /// Reads the child's output to its end, handing each message to ``Handlers/frame``.
    private func readOutput<Decoder: OutputDecoder>(with decoder: Decoder) {
        var decoder = decoder
        let chunkSize = 256 << 10
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { chunk.deallocate() }
        var readFailure: ConnectionFailure?
        func hand(_ frame: ArraySlice<UInt8>) -> ConnectionFailure? {
            receivedFrame.store(true, ordering: .relaxed)
            do {
                try frame.withUnsafeBytes { try handlers.frame($0) }
                return nil
            } catch let failure as ConnectionFailure {
                return failure
            } catch {
                return .malformedFrame(String(describing: error))
            }
        }
        reading: while true {
            let n = read(outputFD, chunk, chunkSize)
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                if e != ECONNRESET && !(isSocket && lock.withLock({ failure != nil })) {
                    readFailure = .readError(errnoDescription(e))
                }
                break
            }
            lastActivity.store(monotonicNanos(), ordering: .relaxed)
            decoder.append(UnsafeRawBufferPointer(start: chunk, count: n))
            do throws(FrameError) {
                while let frame = try decoder.next() {
                    if let failure = hand(frame) {
                        readFailure = failure
                        break reading
                    }
                }
            } catch {
                switch error {
                case .frameTooLarge(let size, let limit): readFailure = .frameTooLarge(size: size, limit: limit)
                default: readFailure = .malformedFrame(error.description)
                }
                break reading
            }
            handlers.burst()
            if lock.withLock({ failure != nil }) { break }
        }
        // What the frames before a failure carried goes on before the failure is reported.
        handlers.burst()
        if let readFailure { abort(readFailure) }
        if lock.withLock({ failure == nil }) {
            do throws(FrameError) {
                let last = try decoder.end()
                let failure = last.flatMap { hand($0) }
                handlers.burst()
                if let failure { abort(failure) }
            } catch {
                abort(.malformedFrame("output ended inside a frame: \(error)"))
            }
        }
        finish()
    }

    /// Waits up to `timeout` nanoseconds for the connection to end; whether it has.
    package func waitUntilEnded(timeout: UInt64) -> Bool {
        let deadline = monotonicNanos() + timeout
        return lock.withLock {
            while !ended && monotonicNanos() < deadline { _ = lock.wait(until: deadline) }
            return ended
        }
    }

    /// Settles the end: the process reaped (or the socket closed), stderr drained; then reports once.
    private func finish() {
        var termination: Termination?
        /// Whether the process ended by itself (not by the host's signals).
        var endedByItself = true
        if let child = process {
            close(outputFD)
            termination = child.waitForExit(timeout: options.grace)
            if termination == nil {
                endedByItself = false
                termination = child.terminate(grace: options.grace)
            }
        }
        let closedCleanly: Bool = lock.withLock {
            // Give the stderr reader a moment to deliver the last lines (a traceback) and the writer to stop.
            let deadline = monotonicNanos() + 500_000_000
            while (!stderrDone || !writerDone) && monotonicNanos() < deadline {
                lock.wait(until: deadline)
            }
            if failure == nil && !closeRequested {
                failure = termination.map { .exited($0) } ?? .connectionClosed
            } else if failure == nil, endedByItself, let termination, !termination.isSuccess {
                // Closed by the host, but the child then exited with an error of its own.
                failure = .exited(termination)
            }
            return failure == nil
        }
        if isSocket {
            // Wait for the writer before closing the descriptor it writes to.
            lock.withLock {
                if !writerDone {
                    inputClosing = true
                    lock.broadcast()
                    _ = shutdown(outputFD, Int32(SHUT_RDWR))
                    while !writerDone { lock.wait() }
                }
                socketClosed = true
                close(outputFD)
            }
        }
        _ = closedCleanly
        let end: ConnectionEnd = lock.withLock {
            ended = true
            lock.broadcast()
            return ConnectionEnd(failure: failure, termination: termination, stderrTail: stderrTail)
        }
        handlers.ended(end)
    }

    private func stderrLoop(fd: Int32) {
        var partial: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        let maxLine = 16 << 10
        func deliver(_ bytes: ArraySlice<UInt8>) {
            var line = String(decoding: bytes, as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            lock.withLock {
                stderrTail.append(line)
                if stderrTail.count > options.stderrLinesKept { stderrTail.removeFirst() }
            }
            handlers.stderrLine(line)
        }
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            var lineStart = 0
            for i in 0..<n where chunk[i] == UInt8(ascii: "\n") {
                if partial.isEmpty {
                    deliver(chunk[lineStart..<i])
                } else {
                    partial += chunk[lineStart..<i]
                    deliver(partial[...])
                    partial.removeAll(keepingCapacity: true)
                }
                lineStart = i + 1
            }
            partial += chunk[lineStart..<n]
            if partial.count > maxLine {
                deliver(partial[...])
                partial.removeAll(keepingCapacity: true)
            }
        }
        if !partial.isEmpty { deliver(partial[...]) }
        close(fd)
        lock.withLock {
            stderrDone = true
            lock.broadcast()
        }
    }

    private func watchdogLoop() {
        let timeout = options.keepaliveTimeout
        let keepaliveEvery: UInt64 = timeout > 0 ? max(timeout / 2, 1_000_000) : 1_000_000_000
        let tickEvery = options.tickInterval > 0 ? max(min(options.tickInterval, keepaliveEvery), 1_000_000) : keepaliveEvery
        var nextKeepalive = monotonicNanos() + keepaliveEvery
        var next = monotonicNanos() + tickEvery
        while true {
            let (isEnded, closing): (Bool, Bool) = lock.withLock {
                while !ended && monotonicNanos() < next { lock.wait(until: next) }
                return (ended, closeRequested)
            }
            if isEnded { return }
            // A program that exited while something it started still holds its stdout open never sends the
            // end of its output: notice the exit here, and stopping the leftovers closes the pipe.
            // Once it has exited nobody is there to answer a keepalive: the reader reports how it ended.
            var exited = false
            if let child = process { exited = child.exitStatus != nil || child.waitForExit(timeout: 0) != nil }
            let now = monotonicNanos()
            next = now + tickEvery
            if timeout > 0 && now >= nextKeepalive && !exited {
                nextKeepalive = now + keepaliveEvery
                let silence = monotonicNanos() &- lastActivity.load(ordering: .relaxed)
                let allowed = hasReceivedFrame ? timeout : max(timeout, options.startupTimeout)
                if silence > allowed && silence < UInt64.max / 2 {
                    abort(closing ? .drainTimeout(timeout: timeout) : .keepaliveTimeout(silence: silence, timeout: timeout))
                    continue
                }
                if !closing {
                    let frame = handlers.keepalive()
                    if !frame.isEmpty { send(control: true) { $0 += frame } }
                }
            }
            handlers.tick()
        }
    }
}

/// Formats nanoseconds the way Go prints durations (`500ms`, `10s`).
package func formatNanos(_ ns: UInt64) -> String {
    GoDuration.format(Int64(clamping: ns))
}
