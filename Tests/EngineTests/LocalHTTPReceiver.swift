import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests of outbound requests: records each request and answers with a
/// fixed status and body, or never answers (`hang`). One thread per connection; `Connection: close` on every answer.
final class LocalHTTPReceiver: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        /// Header lines in the order received, names as sent.
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    enum Answer: Sendable {
        case status(Int, String)
        /// Read the request, then never answer (until the receiver is closed).
        case hang
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var _requests: [Request] = []
    private var open: [Int32] = []
    private var closed = false
    private let answer: Answer

    var requests: [Request] { lock.withLock { _requests } }
    var url: String { "http://127.0.0.1:\(port)" }

    init(answer: Answer = .status(204, "")) throws {
        self.answer = answer
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { Glibc.close(fd); throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Waits until `count` requests arrived (or `seconds` passed); returns whether they did.
    @discardableResult
    func waitFor(_ count: Int, seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if requests.count >= count { return true }
            usleep(10_000)
        }
        return requests.count >= count
    }

    func close() {
        let fds: [Int32] = lock.withLock {
            closed = true
            return open
        }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            let accepted: Bool = lock.withLock {
                if closed { return false }
                open.append(fd)
                return true
            }
            if !accepted { Glibc.close(fd); return }
            Thread { [self] in serve(fd) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            lock.withLock { open.removeAll { $0 == fd } }
            Glibc.close(fd)
        }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headEnd: Int?
        while headEnd == nil {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return }
            data += buffer[0..<n]
            headEnd = Self.find([13, 10, 13, 10], in: data)
        }
        let head = String(decoding: data[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let start = lines.removeFirst().split(separator: " ")
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        var body = Array(data[(headEnd! + 4)...])
        while body.count < length {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            body += buffer[0..<n]
        }
        let request = Request(method: start.first.map(String.init) ?? "", path: start.count > 1 ? String(start[1]) : "",
                              headers: headers, body: body)
        lock.withLock { _requests.append(request) }
        switch answer {
        case .hang:
            // Hold the connection until the client gives up or the receiver closes.
            while read(fd, &buffer, buffer.count) > 0 {}
        case .status(let code, let text):
            let response = "HTTP/1.1 \(code) X\r\nContent-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n\(text)"
            _ = response.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        }
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where Array(hay[i..<i + needle.count]) == needle { return i }
        return nil
    }
}
