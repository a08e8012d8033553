import Foundation
import PluginSupervisor
import Synchronization
import Testing
import UDFProtocol

/// The connection's batched writes: sends that do not wake the writer reach the child in one write at the next
/// flush (or once a pipe's worth is pending), and the reader reports the end of each burst. `cat` echoes the frames.
@Suite("PluginConnection batched pipe writes", .serialized)
struct PipeBatchingTests {
    /// Frames and bursts the connection handed over.
    final class Received: Sendable {
        let frames = Mutex<[[UInt8]]>([])
        let bursts = Mutex(0)
        let framesAtBursts = Mutex<[Int]>([])
        let ended = Mutex(false)

        var frameCount: Int { frames.withLock { $0.count } }

        func waitForFrames(_ n: Int, timeout: Duration = .seconds(10)) -> Bool {
            let deadline = ContinuousClock.now + timeout
            while frameCount < n && ContinuousClock.now < deadline { usleep(2_000) }
            return frameCount >= n
        }
    }

    static func connect(_ received: Received, wakeThreshold: Int = 64 << 10) throws -> PluginConnection {
        var options = PluginConnection.Options(label: "cat")
        options.wakeThreshold = wakeThreshold
        return try PluginConnection(
            endpoint: .process(program: "/bin/cat", arguments: [], environment: [:]), options: options,
            handlers: .init(
                frame: { bytes in received.frames.withLock { $0.append(Array(bytes)) } },
                burst: {
                    let n = received.frameCount
                    received.bursts.withLock { $0 += 1 }
                    received.framesAtBursts.withLock { $0.append(n) }
                },
                ended: { _ in received.ended.withLock { $0 = true } }))
    }

    static func frame(_ i: Int) -> [UInt8] {
        var out: [UInt8] = []
        FrameEncoder.appendFrame(Array("point \(i)".utf8), to: &out)
        return out
    }

    @Test("sends without a wake-up wait for flush(), then go out in one write, in order")
    func flushWritesOnce() throws {
        let received = Received()
        let connection = try Self.connect(received)
        defer {
            connection.closeInput()
            _ = connection.waitUntilEnded(timeout: 5_000_000_000)
        }
        for i in 0..<1_000 {
            #expect(connection.send(wake: false) { $0 += Self.frame(i) })
        }
        usleep(100_000)
        #expect(connection.writeCount == 0)
        #expect(received.frameCount == 0)

        connection.flush()
        #expect(received.waitForFrames(1_000))
        #expect(connection.writeCount == 1)
        #expect(received.frames.withLock { $0 } == (0..<1_000).map { Array("point \($0)".utf8) })
        // The reader handed them over in bursts, each reported after its frames.
        let bursts = received.bursts.withLock { $0 }
        #expect(bursts >= 1 && bursts < 1_000)
        #expect(received.framesAtBursts.withLock { $0.last } == 1_000)
    }

    @Test("a pipe's worth of pending bytes wakes the writer without a flush")
    func thresholdWakes() throws {
        let received = Received()
        let connection = try Self.connect(received, wakeThreshold: 4_096)
        defer {
            connection.closeInput()
            _ = connection.waitUntilEnded(timeout: 5_000_000_000)
        }
        var sent = 0, bytes = 0
        while bytes < 4_096 {
            let f = Self.frame(sent)
            connection.send(wake: false) { $0 += f }
            bytes += f.count
            sent += 1
        }
        #expect(received.waitForFrames(sent))
        #expect(connection.writeCount >= 1)
        // Below the threshold again: nothing more goes out until a flush.
        connection.send(wake: false) { $0 += Self.frame(sent) }
        usleep(100_000)
        #expect(received.frameCount == sent)
        connection.flush()
        #expect(received.waitForFrames(sent + 1))
    }

    @Test("closing the input writes what is pending first")
    func closeWritesPending() throws {
        let received = Received()
        let connection = try Self.connect(received)
        for i in 0..<10 { connection.send(wake: false) { $0 += Self.frame(i) } }
        connection.closeInput()
        #expect(connection.waitUntilEnded(timeout: 5_000_000_000))
        #expect(received.frameCount == 10)
        // The ended handler runs right after the end is settled.
        let deadline = ContinuousClock.now + .seconds(5)
        while !received.ended.withLock({ $0 }) && ContinuousClock.now < deadline { usleep(2_000) }
        #expect(received.ended.withLock { $0 })
    }
}
