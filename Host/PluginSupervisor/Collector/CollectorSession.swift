import Logging
import Foundation
import PluginProtocol
import SwiftProtobuf
import TockModel
import UDFProtocol

/// How to start a collector plugin: a `[[collectors.NAME]]` section with a `prog`.
public struct CollectorPluginConfiguration: Sendable, Hashable {
    public var name: String
    public var program: String
    public var arguments: [String]
    public var environment: [String: String]
    /// The handshake's and keepalives' timeout, in nanoseconds.
    public var timeout: Int64
    /// The plugin's options, sent in the handshake and checked against the options it declares.
    public var options: [String: HandlerOption]

    public init(name: String, program: String, arguments: [String] = [], environment: [String: String] = [:],
                timeout: Int64 = 10 * GoDuration.second, options: [String: HandlerOption] = [:]) {
        self.name = name
        self.program = program
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
        self.options = options
    }
}

/// What a collector plugin said of itself in its handshake.
public struct CollectorPluginInfo: Sendable, Hashable {
    public var name: String
    public var version: String
    /// Nanoseconds; 0 when it has no preference.
    public var defaultInterval: Int64
    public var streaming: Bool
}

/// Why a collector plugin could not start or went wrong, with its last stderr lines.
public struct CollectorPluginError: Error, Sendable, CustomStringConvertible {
    public var plugin: String
    public var message: String
    public var stderrTail: [String] = []

    public var description: String {
        "collector plugin \(plugin) \(message)" + (stderrTail.isEmpty ? "" : "; last stderr: " + stderrTail.suffix(10).joined(separator: " | "))
    }
}

/// One running collector plugin process: the handshake (with its options), then gathers answered by points, or
/// points it streams on its own. Run by the same supervisor as UDFs and notifiers (``PluginConnection``).
public final class CollectorSession: @unchecked Sendable {
    public private(set) var info: CollectorPluginInfo
    private let name: String
    private var connection: PluginConnection!
    private let lock = NSCondition()
    // Guarded by `lock`.
    private var handshake: Tock_Plugin_HandshakeResponse?
    private var ended: String??
    private var nextID: UInt64 = 0
    private var gathers: [UInt64: Gathering] = [:]
    private let streamed: @Sendable ([Point]) -> Void
    private let onEnd: @Sendable (String?) -> Void

    private struct Gathering {
        var time: Timestamp
        var points: [Point] = []
        var error: String?
        var done = false
    }

    private init(name: String, streamed: @escaping @Sendable ([Point]) -> Void, onEnd: @escaping @Sendable (String?) -> Void) {
        self.name = name
        self.info = CollectorPluginInfo(name: name, version: "", defaultInterval: 0, streaming: false)
        self.streamed = streamed
        self.onEnd = onEnd
    }

    public var isAlive: Bool { lock.withLock { ended == nil } }

    /// Starts the program, sends the handshake with the options and waits for the answer; checks the options
    /// against those the plugin declares.
    /// - Parameters:
    ///   - logger: where the plugin's stderr lines go, at their Telegraf-style level, with its name as `plugin`
    ///     metadata.
    ///   - streamed: points the plugin sends on its own (gather id 0).
    ///   - ended: once, when the process has ended (`nil`: after ``stop()``).
    public static func start(_ configuration: CollectorPluginConfiguration,
                             logger: Logger,
                             streamed: @escaping @Sendable ([Point]) -> Void,
                             ended: @escaping @Sendable (String?) -> Void) throws(CollectorPluginError) -> CollectorSession {
        let name = configuration.name
        let session = CollectorSession(name: name, streamed: streamed, onEnd: ended)
        let options = PluginWire.connectionOptions(kind: "collector", name: name, timeout: configuration.timeout)
        do {
            session.connection = try PluginConnection(
                endpoint: .process(program: configuration.program, arguments: configuration.arguments,
                                   environment: configuration.environment),
                options: options,
                handlers: PluginWire.handlers(kind: "collector", name: name, logger: logger,
                                              frame: { bytes in try session.handle(bytes) },
                                              ended: { end in session.connectionEnded(end) }))
        } catch {
            throw CollectorPluginError(plugin: name, message: "could not start: \(error)")
        }
        session.connection.send(control: true) {
            $0 += PluginWire.frame(.with {
                $0.handshake = .with {
                    $0.protocolVersion = 1
                    $0.name = name
                    $0.hostVersion = "tock"
                    for (key, value) in configuration.options {
                        if let v = PluginWire.optionValue(value) { $0.options[key] = v }
                    }
                }
            })
        }
        let deadline = Date(timeIntervalSinceNow: Double(configuration.timeout) / 1e9)
        let answer: Result<Tock_Plugin_HandshakeResponse, CollectorPluginError> = session.lock.withLock {
            while session.handshake == nil && session.ended == nil {
                if !session.lock.wait(until: deadline) { break }
            }
            if let h = session.handshake { return .success(h) }
            if let reason = session.ended { return .failure(CollectorPluginError(plugin: name, message: reason ?? "ended before its handshake")) }
            return .failure(CollectorPluginError(plugin: name, message: "did not answer the handshake within \(GoDuration.format(configuration.timeout))"))
        }
        let h: Tock_Plugin_HandshakeResponse
        switch answer {
        case .failure(var error):
            error.stderrTail = session.connection.abortAndSettle(.protocolError(error.message))
            throw error
        case .success(let handshake): h = handshake
        }
        func refuse(_ message: String) -> CollectorPluginError {
            CollectorPluginError(plugin: name, message: message, stderrTail: session.connection.abortAndSettle(.protocolError(message)))
        }
        guard h.kind == .collector else { throw refuse("is not a collector (its handshake says kind \(h.kind))") }
        var declared: [String: Tock_Plugin_OptionInfo] = [:]
        for option in h.options { declared[option.name] = option }
        for (key, value) in configuration.options.sorted(by: { $0.key < $1.key }) {
            guard let spec = declared[key] else {
                throw refuse("has no option \(key) (options: \(declared.keys.sorted().joined(separator: ", ")))")
            }
            guard PluginWire.optionValue(value, as: spec.type) != nil else {
                throw refuse("option \(key) must be \(PluginWire.describe(spec.type))")
            }
        }
        for spec in declared.values.sorted(by: { $0.name < $1.name }) where spec.required && configuration.options[spec.name] == nil {
            throw refuse("needs option \(spec.name)")
        }
        session.info = CollectorPluginInfo(name: h.name.isEmpty ? name : h.name, version: h.version,
                                           defaultInterval: h.defaultInterval, streaming: h.mode == .streaming)
        return session
    }

    /// Asks for one gather stamped `time` and waits up to `timeout` nanoseconds for its last answer.
    /// Returns the points and the plugin's error for this gather, if it reported one.
    public func gather(time: Timestamp, timeout: Int64) throws(CollectorPluginError) -> (points: [Point], error: String?) {
        let id: UInt64? = lock.withLock {
            guard ended == nil else { return nil }
            nextID += 1
            gathers[nextID] = Gathering(time: time)
            return nextID
        }
        guard let id else { throw CollectorPluginError(plugin: name, message: "is not running") }
        let frame = PluginWire.frame(.with { $0.gather = .with { $0.gatherID = id; $0.time = time } })
        guard connection.send(control: true, { $0 += frame }) else {
            _ = lock.withLock { gathers.removeValue(forKey: id) }
            throw CollectorPluginError(plugin: name, message: "is not accepting requests")
        }
        let deadline = Date(timeIntervalSinceNow: Double(timeout) / 1e9)
        let result: Gathering? = lock.withLock {
            while gathers[id]?.done == false && ended == nil {
                if !lock.wait(until: deadline) { break }
            }
            return gathers.removeValue(forKey: id)
        }
        guard let result else { throw CollectorPluginError(plugin: name, message: "ended during a gather") }
        guard result.done else {
            throw CollectorPluginError(plugin: name, message: "did not finish a gather within \(GoDuration.format(timeout))")
        }
        return (result.points, result.error)
    }

    /// Closes the plugin's input: it is expected to finish and exit.
    public func stop() { connection.closeInput() }

    /// The last lines it wrote to stderr.
    public var recentStderr: [String] { connection.recentStderr }

    // MARK: Reader side

    private func handle(_ bytes: UnsafeRawBufferPointer) throws {
        let response: Tock_Plugin_Response
        do {
            response = try Tock_Plugin_Response(serializedBytes: Array(bytes))
        } catch {
            throw ConnectionFailure.malformedFrame("a \(bytes.count)-byte response that does not decode (\(error))")
        }
        switch response.message {
        case .handshake(let h):
            try lock.withLock {
                guard handshake == nil else { throw ConnectionFailure.protocolError("sent a second handshake") }
                handshake = h
                lock.broadcast()
            }
        case .keepalive, .notified:
            break
        case .points(let p):
            if p.gatherID == 0 {
                let now = wallClockNanos()
                streamed(p.points.compactMap { Self.point($0, defaultTime: now) })
                return
            }
            lock.withLock {
                // Answers to a gather already given up (timed out) are dropped.
                guard var g = gathers[p.gatherID] else { return }
                g.points += p.points.compactMap { Self.point($0, defaultTime: g.time) }
                if !p.error.isEmpty { g.error = p.error }
                if p.done { g.done = true }
                gathers[p.gatherID] = g
                lock.broadcast()
            }
        case .error(let e):
            throw ConnectionFailure.errorResponse(e.error)
        case nil:
            throw ConnectionFailure.malformedFrame("an empty response (no message set)")
        }
    }

    /// A point as the engine takes it; `nil` for one without a name or fields (line protocol has no such point).
    static func point(_ p: Tock_Plugin_Point, defaultTime: Timestamp) -> Point? {
        guard !p.name.isEmpty, !p.fields.isEmpty else { return nil }
        var fields: [(String, FieldValue)] = []
        for (key, value) in p.fields {
            switch value.value {
            case .doubleValue(let d)?: fields.append((key, .double(d)))
            case .intValue(let i)?: fields.append((key, .int(i)))
            case .uintValue(let u)?: fields.append((key, .uint(u)))
            case .stringValue(let s)?: fields.append((key, .string(s)))
            case .boolValue(let b)?: fields.append((key, .bool(b)))
            case nil: continue
            }
        }
        return Point(name: p.name, tags: Tags(p.tags), fields: Fields(fields), time: p.time == 0 ? defaultTime : p.time)
    }

    private func connectionEnded(_ end: ConnectionEnd) {
        let reason: String? = end.failure.map { failure in
            "ended: \(failure)" + (end.stderrTail.isEmpty ? "" : "; last stderr: " + end.stderrTail.suffix(10).joined(separator: " | "))
        }
        lock.withLock {
            ended = .some(reason)
            lock.broadcast()
        }
        onEnd(reason)
    }
}
