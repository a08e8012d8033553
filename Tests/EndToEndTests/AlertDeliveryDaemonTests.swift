import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Alert handlers of a running daemon deliver through the alerting service's queues: a receiver that is down does
/// not stall the task, and gets every event once and in order when it comes up.
@Suite("Alert delivery through the daemon", .serialized)
struct AlertDeliveryDaemonTests {
    @Test(".tcp() to a listener that is down for the first events: each arrives once, in order; writes keep being answered")
    func tcpReceiverDownThenUp() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try TCPLines.freePort()
        let config = """
            [alerting]
              timeout = "2s"
              retry-max-attempts = 1000
              retry-initial-backoff = "50ms"
              retry-max-backoff = "200ms"

            """
        let tick = try file("alert.tick", """
            dbrp "telegraf"."autogen"
            stream
                |from()
                    .measurement('cpu')
                |alert()
                    .crit(lambda: "value" > 80)
                    .tcp('127.0.0.1:\(port)')

            """, in: dir)
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: config)
        defer { daemon.stop() }
        let define = try daemon.cli(["define", "cpu_alert", "-tick", tick])
        #expect(define.status == 0, "\(define.stderr)")
        let enable = try daemon.cli(["enable", "cpu_alert"])
        #expect(enable.status == 0, "\(enable.stderr)")

        for t in 1...5 {
            #expect(try await daemon.write("cpu value=\(90 + t) \(t)\n", db: "telegraf", rp: "autogen") == 204)
        }
        try await DaemonProcess.waitUntil("the daemon logs a failed attempt to the listener that is down") {
            let log = (try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? ""
            return log.contains("alert handler tcp 127.0.0.1:\(port): attempt")
                && log.contains("connection refused; retrying in")
        }
        for t in 6...8 {
            #expect(try await daemon.write("cpu value=\(90 + t) \(t)\n", db: "telegraf", rp: "autogen") == 204,
                    "the write API answers while the receiver is down")
        }
        let listener = try TCPLines(port: port)
        defer { listener.stop() }
        try await DaemonProcess.waitUntil("eight alerts reach the listener") { listener.lines.count >= 8 }
        #expect(try await daemon.write("cpu value=99 9\n", db: "telegraf", rp: "autogen") == 204)
        try await DaemonProcess.waitUntil("the ninth alert arrives") { listener.lines.count >= 9 }
        let times = listener.lines.map { line -> String in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["time"] as? String ?? "unparsable: \(line)"
        }
        #expect(times == (1...9).map { "1970-01-01T00:00:0\($0)Z" })

        let vars = try await daemon.getJSON("/kapacitor/v1/debug/vars")
        let kapacitor = vars["kapacitor"] as? [String: Any] ?? [:]
        let handler = kapacitor["alert_handler:cpu_alert:alert2:tcp 127.0.0.1:\(port)"] as? [String: Any]
        let values = handler?["values"] as? [String: Any] ?? [:]
        #expect(values["sent"] as? Int == 9, "\(kapacitor.keys.sorted())")
        #expect((values["retried"] as? Int ?? 0) >= 1)
        #expect(values["failed"] as? Int == 0 && values["dropped"] as? Int == 0 && values["queued"] as? Int == 0)
    }
}

/// A TCP listener on 127.0.0.1 keeping the lines each connection sends.
final class TCPLines: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []
    private var stopped = false

    init(port: Int) throws {
        fd = try Self.listen(port: port)
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    lock.lock(); let done = stopped; lock.unlock()
                    if done { return } else { continue }
                }
                var data: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    data += buffer[0..<n]
                }
                close(client)
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
                lock.lock(); received += lines; lock.unlock()
            }
        }
    }

    var lines: [String] {
        lock.lock(); defer { lock.unlock() }
        return received
    }

    func stop() {
        lock.lock(); stopped = true; lock.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    static func freePort() throws -> Int {
        let fd = try listen(port: 0)
        defer { close(fd) }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func listen(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            close(fd)
            throw HarnessError("cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        return fd
    }
}
