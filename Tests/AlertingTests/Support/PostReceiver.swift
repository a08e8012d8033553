import HTTPTesting
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A receiver on 127.0.0.1 for the incident services' tests: an HTTP/1.1 server that records each request and
/// answers with the status queued for it (``respond(_:body:headers:)``), or a raw TCP socket that records what a
/// Sensu client would read and answers a fixed text. Plain sockets on a thread keep the test target free of extra
/// packages.
final class PostReceiver: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    enum Mode { case http, tcp(answer: String) }

    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }
    private let fd: Int32
    private let mode: Mode
    private let lock = NSLock()
    private var recorded: [Request] = []
    private var queued: [(Int, String, [(String, String)])] = []
    private var standing: (Int, String, [(String, String)])
    private var stopped = false

    init(mode: Mode = .http, status: Int = 200, body: String = "") throws {
        self.mode = mode
        standing = (status, body, [])
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw ReceiverError("cannot listen on 127.0.0.1: errno \(errno)") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        self.fd = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    struct ReceiverError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// Answers the next request with `status` (after any already queued).
    func respond(_ status: Int, body: String = "", headers: [(String, String)] = []) {
        lock.withLock { queued.append((status, body, headers)) }
    }

    var requests: [Request] { lock.withLock { recorded } }

    /// Waits until `count` requests have arrived (for receivers another process posts to), up to `seconds`.
    func waitFor(_ count: Int, seconds: Double = 30) async -> [Request] {
        let deadline = Date().addingTimeInterval(seconds)
        while requests.count < count && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return requests
    }

    /// Stops listening (once: the descriptor is never closed twice, so a reused number is never touched).
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private func acceptLoop() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            switch mode {
            case .http: serveHTTP(client)
            case .tcp(let answer): serveTCP(client, answer: answer)
            }
            close(client)
        }
    }

    private func readSome(_ client: Int32, into data: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = read(client, &chunk, chunk.count)
        guard n > 0 else { return false }
        data += chunk[0..<n]
        return true
    }

    private func serveTCP(_ client: Int32, answer: String) {
        var data: [UInt8] = []
        while !data.contains(UInt8(ascii: "\n")) { if !readSome(client, into: &data) { break } }
        lock.withLock { recorded.append(Request(method: "", path: "", headers: [], body: data)) }
        let bytes = Array(answer.utf8)
        _ = write(client, bytes, bytes.count)
    }

    private func serveHTTP(_ client: Int32) {
        var data: [UInt8] = []
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while headerEnd == nil {
            if let r = data.firstRange(of: separator) { headerEnd = r.lowerBound; break }
            if !readSome(client, into: &data) { return }
        }
        let head = String(decoding: data[..<headerEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = head[0].split(separator: " ")
        var headers: [(String, String)] = []
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let length = Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        let bodyStart = headerEnd! + 4
        while data.count < bodyStart + length { if !readSome(client, into: &data) { break } }
        let request = Request(method: requestLine.first.map(String.init) ?? "", path: requestLine.count > 1 ? String(requestLine[1]) : "",
                              headers: headers, body: Array(data[bodyStart..<min(data.count, bodyStart + length)]))
        let (status, body, extra) = lock.withLock {
            recorded.append(request)
            return queued.isEmpty ? standing : queued.removeFirst()
        }
        var response = "HTTP/1.1 \(status) Status\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n"
        for (k, v) in extra { response += "\(k): \(v)\r\n" }
        response += "\r\n" + body
        let bytes = Array(response.utf8)
        _ = write(client, bytes, bytes.count)
    }
}
