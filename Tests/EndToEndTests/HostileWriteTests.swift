import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a client sends to `/write` of a real `tock serve`, over a real socket: gzip bodies in HTTP chunks of many
/// sizes deliver exactly their lines to a task; corrupt or truncated gzip, bad chunked encoding and a body that
/// arrives too slowly are refused (and deliver nothing); the daemon keeps answering after each.
@Suite("Hostile writes end to end", .serialized)
struct HostileWriteTests {
    /// Line `i`: escapes in a tag, a string with quotes and a backslash, its own timestamp in seconds.
    static func line(_ i: Int) -> String {
        #"cpu,host=h\#(i % 13),path=C:\temp\\\#(i) usage=\#(i).5,n=\#(i)i,msg="line \#(i) \"q\" \\" \#(1_000_000_000 + i)"#
    }

    static func body(lines: Int) -> Data { Data((0..<lines).map { line($0) + "\n" }.joined().utf8) }

    /// A task that keeps every point of its database in one window (1000h), shown by httpOut once a later point closes it.
    static func define(_ daemon: DaemonProcess, id: String, db: String) async throws {
        let script = "stream\n    |from()\n        .measurement('cpu')\n    |window()\n        .period(1000h)\n        .every(1000h)\n    |httpOut('out')\n"
        let body = try JSONSerialization.data(withJSONObject: [
            "id": id, "type": "stream", "dbrps": [["db": db, "rp": "autogen"]], "status": "enabled", "script": script,
        ])
        let reply = try await HTTP.send("POST", daemon.url + "/kapacitor/v1/tasks", body: body)
        #expect(reply.status == 200, "define \(id): \(String(decoding: reply.body, as: UTF8.self))")
    }

    /// The rows the task's window holds once a point 1000h later closes it.
    static func rows(_ daemon: DaemonProcess, id: String, db: String) async throws -> [[Any]] {
        let flush = "cpu,host=flush usage=0 \(1_000_000_000 + 3_600_000)\n"
        #expect(try await daemon.write(flush, db: db, rp: "autogen") == 204)
        _ = try await daemon.getJSON("/kapacitor/v1/tasks/\(id)") // waits for the points queued before it
        let out = try await daemon.getJSON("/kapacitor/v1/tasks/\(id)/out")
        let series = out["series"] as? [[String: Any]] ?? []
        #expect(series.count == 1)
        #expect(series.first?["columns"] as? [String] == ["time", "host", "msg", "n", "path", "usage"])
        return series.first?["values"] as? [[Any]] ?? []
    }

    /// The points the task's stream node has passed on so far (reading the task waits for those queued before).
    static func emitted(_ daemon: DaemonProcess, id: String) async throws -> Int? {
        let task = try await daemon.getJSON("/kapacitor/v1/tasks/\(id)")
        let nodes = (task["stats"] as? [String: Any])?["node-stats"] as? [String: Any]
        return (nodes?["stream0"] as? [String: Any])?["emitted"] as? Int
    }

    /// Checks that `rows` are exactly lines `0..<count`, in order.
    static func expectLines(_ rows: [[Any]], count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(rows.count == count, sourceLocation: sourceLocation)
        let time = ISO8601DateFormatter()
        for (i, row) in rows.enumerated() {
            let expected: [String] = [time.string(from: Date(timeIntervalSince1970: Double(1_000_000_000 + i))),
                                      "h\(i % 13)", #"line \#(i) "q" \"#, "\(i)", #"C:\temp\\\#(i)"#, "\(Double(i) + 0.5)"]
            let got = row.map { "\($0)" }
            if got != expected {
                Issue.record("row \(i) is \(got), expected \(expected)", sourceLocation: sourceLocation)
                return
            }
        }
    }

    /// A POST /write request with a chunked body of `chunkSize`-byte HTTP chunks.
    static func chunkedRequest(db: String, gzip: Bool, body: Data, chunkSize: Int) -> Data {
        var request = Data("POST /write?db=\(db)&rp=autogen&precision=s HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n".utf8)
        if gzip { request += Data("Content-Encoding: gzip\r\n".utf8) }
        request += Data("Connection: close\r\n\r\n".utf8)
        var offset = 0
        while offset < body.count {
            let n = min(chunkSize, body.count - offset)
            request += Data((String(n, radix: 16) + "\r\n").utf8) + body[offset..<(offset + n)] + Data("\r\n".utf8)
            offset += n
        }
        return request + Data("0\r\n\r\n".utf8)
    }

    @Test("gzip bodies of 1,000 and 100,000 lines, in HTTP chunks of 1 to 65536 bytes, deliver exactly their lines to a task")
    func gzipRoundTrips() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        // 100,000 lines go through WriteHandler in WriteBodyTests; over HTTP here the run did not finish in minutes on
        // the shared CI machine (not yet understood), so the daemon gets 1,000 and 10,000 lines.
        let runs: [(lines: Int, chunk: Int)] = [(1_000, 1), (1_000, 2), (1_000, 3), (1_000, 7), (1_000, 64), (1_000, 4096),
                                                (100_000, 65536)]
        var compressed: [Int: Data] = [:]
        for (k, run) in runs.enumerated() {
            let db = "gz\(k)"
            try await Self.define(daemon, id: "gz\(k)", db: db)
            if compressed[run.lines] == nil { compressed[run.lines] = try gzip(Self.body(lines: run.lines), in: dir) }
            let request = Self.chunkedRequest(db: db, gzip: true, body: compressed[run.lines]!, chunkSize: run.chunk)
            let answer = try RawHTTP.exchange(port: daemon.port, request)
            #expect(answer.status == 204, "\(run): \(answer.text)")
            Self.expectLines(try await Self.rows(daemon, id: "gz\(k)", db: db), count: run.lines)
        }
    }

    @Test("truncated and corrupt gzip bodies are 400 naming the problem; nothing of them reaches the task")
    func badGzip() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        try await Self.define(daemon, id: "bad", db: "bad")
        let good = try gzip(Self.body(lines: 100), in: dir)
        var corrupt = good
        corrupt[good.count / 2] ^= 0x55
        let cases: [(body: Data, says: String)] = [
            (good.prefix(good.count - 20), "unexpected EOF"),
            (good.prefix(good.count / 2), "unexpected EOF"),
            (corrupt, "invalid gzip body"),
            (Self.body(lines: 3), "invalid header"),
        ]
        for (body, says) in cases {
            let reply = try await HTTP.send("POST", daemon.url + "/write?db=bad&rp=autogen&precision=s", body: body,
                                            headers: ["Content-Encoding": "gzip"])
            let text = String(decoding: reply.body, as: UTF8.self)
            #expect(reply.status == 400, "\(says): \(text)")
            #expect(text.contains(says), "\(text)")
            #expect(try await HTTP.send("GET", daemon.url + "/ping").status == 204)
        }
        #expect(try await daemon.write(Self.line(1) + "\n", db: "bad", rp: "autogen") == 204)
        #expect(try await Self.emitted(daemon, id: "bad") == 1, "only the good line written after the bad bodies")
    }

    @Test("bad chunked encoding is 400, not 500; a body cut short delivers nothing; the daemon keeps answering")
    func badChunkedEncoding() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        try await Self.define(daemon, id: "chunks", db: "chunks")
        let head = "POST /write?db=chunks&rp=autogen&precision=s HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        let line = Self.line(0) + "\n"
        let bad = [
            head + "zz\r\n" + line + "\r\n0\r\n\r\n",                                      // a chunk size that is not hex
            head + String(line.utf8.count, radix: 16) + "\r\n" + line + "\r\nq\r\n\r\n",   // a good chunk, then a bad size
            head + "3\r\n" + line + "\r\n0\r\n\r\n",                                         // a chunk longer than its size
        ]
        for request in bad {
            let answer = try RawHTTP.exchange(port: daemon.port, Data(request.utf8))
            #expect(answer.status == 400, "\(answer.text)")
            #expect(try await HTTP.send("GET", daemon.url + "/ping").status == 204)
        }
        // The connection closes inside a chunk: there is no one left to answer, and nothing is delivered.
        let cut = head + "1000\r\n" + line
        _ = try RawHTTP.exchange(port: daemon.port, Data(cut.utf8), closeAfterSending: true)
        // Likewise a body that stops before its Content-Length, after two whole lines.
        let short = "POST /write?db=chunks&rp=autogen&precision=s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"
            + Self.line(2) + "\n" + Self.line(3) + "\n"
        _ = try RawHTTP.exchange(port: daemon.port, Data(short.utf8), closeAfterSending: true)
        #expect(try await HTTP.send("GET", daemon.url + "/ping").status == 204)
        #expect(try await daemon.write(Self.line(1) + "\n", db: "chunks", rp: "autogen") == 204)
        // Give the cut requests' handlers time to have delivered anything they wrongly would.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await Self.emitted(daemon, id: "chunks") == 1, "only the good line written after the bad bodies")
    }

    @Test("a body that arrives slower than [http] read-timeout is answered 408; nothing of it is delivered")
    func slowBody() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: "[http]\n  read-timeout = \"1s\"\n")
        defer { daemon.stop() }
        try await Self.define(daemon, id: "slow", db: "slow")
        let body = Self.body(lines: 50)
        let head = "POST /write?db=slow&rp=autogen&precision=s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n\r\n"
        // One byte every 100 ms: the whole body would take minutes; the server must answer long before that.
        let answer = try RawHTTP.drip(port: daemon.port, head: Data(head.utf8), body: body, every: 0.1, giveUpAfter: 20)
        #expect(answer.status == 408, "\(answer.text)")
        #expect(answer.text.contains("read-timeout of 1s"))
        #expect(try await HTTP.send("GET", daemon.url + "/ping").status == 204)
        #expect(try await daemon.write(Self.line(1) + "\n", db: "slow", rp: "autogen") == 204)
        #expect(try await Self.emitted(daemon, id: "slow") == 1, "only the line written after the slow request")
    }

    @Test("tock config documents [http] read-timeout")
    func configDocumentsReadTimeout() throws {
        let result = try TockBinary.run(["config"])
        #expect(result.stdout.contains("read-timeout = \"30s\""))
    }

    /// `bytes` gzip'd by the system's gzip.
    func gzip(_ bytes: Data, in dir: String) throws -> Data {
        let input = dir + "/body-\(UUID().uuidString)"
        try bytes.write(to: URL(fileURLWithPath: input))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        process.arguments = ["-k", "-f", input]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try Data(contentsOf: URL(fileURLWithPath: input + ".gz"))
    }
}

/// HTTP/1.1 over a plain socket, for requests URLSession will not send (bad chunked encoding, a body that trickles).
enum RawHTTP {
    struct Answer {
        var text: String
        /// The status of the first response line; 0 when there was none.
        var status: Int {
            guard text.hasPrefix("HTTP/1.1 ") else { return 0 }
            return Int(text.dropFirst(9).prefix(3)) ?? 0
        }
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw HarnessError("connect to 127.0.0.1:\(port) failed")
        }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func send(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    /// Everything the server sends until it closes the connection (or 30 s pass).
    static func receive(_ fd: Int32) -> String {
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out += buffer[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Sends `request` and reads the answer; with `closeAfterSending`, closes the connection at once instead.
    static func exchange(port: Int, _ request: Data, closeAfterSending: Bool = false) throws -> Answer {
        let fd = try connect(port: port)
        defer { close(fd) }
        _ = send(fd, request)
        if closeAfterSending { return Answer(text: "") }
        shutdown(fd, Int32(SHUT_WR))
        return Answer(text: receive(fd))
    }

    /// Sends `head`, then `body` one byte every `every` seconds until the server answers (or `giveUpAfter` seconds).
    static func drip(port: Int, head: Data, body: Data, every: Double, giveUpAfter: Double) throws -> Answer {
        let fd = try connect(port: port)
        defer { close(fd) }
        _ = send(fd, head)
        let start = Date()
        var offset = 0
        while Date().timeIntervalSince(start) < giveUpAfter && offset < body.count {
            if readable(fd, within: every) { return Answer(text: receiveAvailable(fd)) }
            if !send(fd, body[offset..<(offset + 1)]) { break }
            offset += 1
        }
        return Answer(text: receiveAvailable(fd))
    }

    static func readable(_ fd: Int32, within seconds: Double) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, Int32(seconds * 1000)) > 0
    }

    /// What the server sends until it closes the connection or is silent for half a second.
    static func receiveAvailable(_ fd: Int32) -> String {
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while readable(fd, within: 0.5) {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out += buffer[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
