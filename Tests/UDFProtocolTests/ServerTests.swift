import Foundation
import Testing
import UDFKit
#if canImport(Glibc)
import Glibc
#endif

func connectUnix(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: Array(path.utf8) + [0])
    }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    try #require(result == 0, "connect \(path): \(String(cString: strerror(errno)))")
    return fd
}

@Suite("UDFKit socket Server")
struct ServerTests {
    @Test("each connection gets its own agent and handler; stop removes the socket file")
    func connections() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("udfkit-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        let server = try Server(path: path) { Counter() }
        Thread.detachNewThread { try? server.serve() }

        let a = try connectUnix(path), b = try connectUnix(path)
        var readerA = FrameReader(fd: a), readerB = FrameReader(fd: b)
        for (fd, name) in [(a, "a1"), (b, "b1"), (a, "a2")] {
            let bytes = Requests.point(name)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
        // Counts are per connection: a sees 1 then 2, b sees 1.
        #expect(try readerA.next()?.point.fieldsInt == ["seen": 1])
        #expect(try readerB.next()?.point.fieldsInt == ["seen": 1])
        #expect(try readerA.next()?.point.fieldsInt == ["seen": 2])

        // Kapacitor closes its write side first and reads until the agent closes the connection.
        shutdown(a, Int32(SHUT_WR))
        #expect(try readerA.next() == nil)
        close(a)
        close(b)

        #expect(FileManager.default.fileExists(atPath: path))
        server.stop()
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a leftover socket file nobody listens on is replaced; a live one is refused")
    func staleSocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("udfkit-stale-\(getpid()).sock").path
        // A crashed server: a bound socket closed without removing its file.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))

        let live = try Server(path: path) { Counter() }
        #expect(throws: UDFServerError.self) { try Server(path: path) { Counter() } }
        live.stop()
    }
}
