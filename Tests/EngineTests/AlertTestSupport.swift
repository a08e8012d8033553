import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// A NodeOutput that records what an alert node emits, publishes and logs.
final class AlertRecordingOutput: NodeOutput, @unchecked Sendable {
    let taskID: String
    let nodeID: String
    private let lock = NSLock()
    private var _emitted: [Message] = []
    private var _alerts: [String] = []
    private var _logs: [String] = []
    private let finishedSignal = DispatchSemaphore(value: 0)

    init(taskID: String = "cpu_alert", nodeID: String = "alert2") {
        self.taskID = taskID
        self.nodeID = nodeID
    }

    var emitted: [Message] { lock.withLock { _emitted } }
    var alerts: [String] { lock.withLock { _alerts } }
    var logs: [String] { lock.withLock { _logs } }

    /// The `level` of every published alert, in order.
    var levels: [String] {
        alerts.map { json in
            let range = json.range(of: "\"level\":\"")!
            return String(json[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    func emit(_ message: Message) { lock.withLock { _emitted.append(message) } }
    func post(_ message: Message) { emit(message) }
    func fail(_ error: any Error) { lock.withLock { _logs.append("FAIL \(error)") } }
    func finish() { finishedSignal.signal() }
    func publish(_ event: TaskEvent) {
        if case .alert(let json) = event { lock.withLock { _alerts.append(json) } }
    }
    func log(_ level: LogLevel, _ message: String) { lock.withLock { _logs.append("\(level.rawValue) \(message)") } }

    /// Stops `node` and waits (at most `seconds`) until its handlers have delivered everything.
    func stopAndDrain(_ node: any Node, seconds: Double = 20, sourceLocation: SourceLocation = #_sourceLocation) {
        guard node.stop(output: self) == .pending else { return }
        if finishedSignal.wait(timeout: .now() + seconds) == .timedOut {
            Issue.record("the node's handlers did not drain within \(seconds) s", sourceLocation: sourceLocation)
        }
    }
}

enum AlertFixtures {
    static let second = GoDuration.second

    /// A predicate `"value" > threshold`.
    static func above(_ threshold: Double) -> LevelSelector.Condition {
        { p in (p.fields["value"]?.numeric ?? 0) > threshold }
    }

    /// A predicate `"value" < threshold`.
    static func below(_ threshold: Double) -> LevelSelector.Condition {
        { p in (p.fields["value"]?.numeric ?? 0) < threshold }
    }

    static func point(_ value: Double, at seconds: Int64 = 0, tags: Tags = [:], group: [String] = []) -> Message {
        let dims = Dimensions(tagNames: group)
        return .point(Point(
            name: "cpu", tags: tags, fields: ["value": .double(value)], time: seconds * second,
            group: GroupID(name: "cpu", tags: tags, dimensions: dims), dimensions: dims))
    }

    /// Feeds `values` (one per second) to `node` and returns the output.
    static func run(_ node: AlertNode, _ values: [Double], output: AlertRecordingOutput = AlertRecordingOutput()) throws -> AlertRecordingOutput {
        for (i, v) in values.enumerated() {
            try node.receive(point(v, at: Int64(i)), port: 0, output: output)
        }
        return output
    }

    static func options(_ configure: (inout AlertOptions) throws -> Void = { _ in }) throws -> AlertOptions {
        var o = try AlertOptions()
        try configure(&o)
        return o
    }

    static func configuration(_ properties: [(String, [Value])]) -> NodeConfiguration {
        NodeConfiguration(
            id: "alert2", position: SourcePosition(line: 3, column: 6), inputType: .stream, arguments: [],
            properties: properties.enumerated().map { i, p in (p.0, p.1, SourcePosition(line: 4 + i, column: 10)) })
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-alert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// A TCP listener on 127.0.0.1 with an ephemeral port, for handler tests.
final class LoopbackServer: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0, listen(fd, 8) == 0 else { throw AlertHandlerError("cannot listen: \(errno)") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        port = UInt16(bigEndian: addr.sin_port)
    }

    deinit { close(fd) }

    /// How long `acceptAll` and `acceptHTTP` wait for a connection and for each read before they throw.
    static let deadlineSeconds: Int32 = 20

    /// Accepts one connection within the deadline; its reads time out after the deadline too.
    private func acceptConnection() throws -> Int32 {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Self.deadlineSeconds * 1000) == 1 else {
            throw AlertHandlerError("no connection to 127.0.0.1:\(port) within \(Self.deadlineSeconds) s")
        }
        let conn = accept(fd, nil, nil)
        guard conn >= 0 else { throw AlertHandlerError("accept failed: \(errno)") }
        var timeout = timeval(tv_sec: Int(Self.deadlineSeconds), tv_usec: 0)
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return conn
    }

    /// Accepts one connection and reads it to EOF.
    func acceptAll() throws -> String {
        let conn = try acceptConnection()
        defer { close(conn) }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(conn, &buf, buf.count)
            if n <= 0 { break }
            data += buf[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Accepts one HTTP request, answers `status`, and returns the request's head and body.
    func acceptHTTP(status: Int = 200) throws -> (head: String, body: String) {
        let conn = try acceptConnection()
        defer { close(conn) }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        var head = "", body: [UInt8] = []
        while true {
            let n = read(conn, &buf, buf.count)
            if n <= 0 { break }
            data += buf[0..<n]
            let text = String(decoding: data, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { continue }
            head = String(text[..<end.lowerBound])
            let length = head.split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            let headBytes = text[..<end.upperBound].utf8.count
            if data.count - headBytes >= length {
                body = Array(data[headBytes..<(headBytes + length)])
                break
            }
        }
        let response = "HTTP/1.1 \(status) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        _ = response.withCString { write(conn, $0, strlen($0)) }
        return (head, String(decoding: body, as: UTF8.self))
    }
}

/// An alert service that keeps the events its sinks are given for their handlers (inhibited ones aside), and the
/// contexts and handler specs they were opened with.
final class RecordingAlertService: AlertService, AlertSink, @unchecked Sendable {
    private let lock = NSLock()
    private var _events: [AlertEvent] = []
    private var _opened: [(context: AlertNodeContext, handlers: [AlertHandlerSpec])] = []
    private var _closed = 0
    var events: [AlertEvent] { lock.withLock { _events } }
    /// The events' JSON lines, as a handler's body.
    var bodies: [[UInt8]] { events.map { Array(($0.json + "\n").utf8) } }
    var opened: [(context: AlertNodeContext, handlers: [AlertHandlerSpec])] { lock.withLock { _opened } }
    var closed: Int { lock.withLock { _closed } }

    func check(_ handler: AlertHandlerSpec) throws {}
    func open(_ node: AlertNodeContext, handlers: [AlertHandlerSpec]) throws -> any AlertSink {
        lock.withLock { _opened.append((node, handlers)) }
        return self
    }
    func collect(_ event: AlertEvent, inhibited: Bool) {
        guard !inhibited else { return }
        lock.withLock { _events.append(event) }
    }
    func drain(_ done: @escaping @Sendable () -> Void) { done() }
    func close() { lock.withLock { _closed += 1 } }
}
