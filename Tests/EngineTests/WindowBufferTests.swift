import Testing
import TockModel
@testable import Engine

@Suite("Window buffer in chunks")
struct WindowBufferTests {
    private func point(_ t: Timestamp) -> BatchPoint { BatchPoint(time: t, fields: ["v": .int(t)]) }

    @Test("appends across chunks and gives the points back in order")
    func appendAndCopy() {
        var b = WindowBuffer()
        let n = WindowBuffer.chunkSize * 3 + 7
        for t in 0..<n { b.append(point(Int64(t))) }
        #expect(b.count == n)
        #expect(b.array().map(\.time) == (0..<n).map(Int64.init))
        // A copy leaves the buffer as it was.
        #expect(b.count == n)
        let taken = b.takeAll()
        #expect(taken.map(\.time) == (0..<n).map(Int64.init))
        #expect(b.isEmpty && b.array().isEmpty)
    }

    @Test("drops from the front, within a chunk and whole chunks")
    func dropFront() {
        var b = WindowBuffer()
        let n = WindowBuffer.chunkSize * 2 + 10
        for t in 0..<n { b.append(point(Int64(t))) }
        b.dropFirst { $0 < 5 }
        #expect(b.count == n - 5)
        #expect(b.array().first?.time == 5)
        b.dropFirst { $0 < Int64(WindowBuffer.chunkSize + 3) }
        #expect(b.array().map(\.time) == (WindowBuffer.chunkSize + 3..<n).map(Int64.init))
        b.dropFirst { _ in true }
        #expect(b.isEmpty)
        b.append(point(99))
        #expect(b.takeAll().map(\.time) == [99])
    }

    @Test("a first chunk sized for the expected points is handed over whole")
    func expectedSize() {
        var b = WindowBuffer()
        b.expected = 1000
        for t in 0..<1000 { b.append(point(Int64(t))) }
        let taken = b.takeAll()
        #expect(taken.count == 1000 && taken.capacity >= 1000)
        #expect(taken.map(\.time) == (0..<1000).map(Int64.init))
        // Taking after a partial drop removes the dropped points.
        b.append(point(1)); b.append(point(2)); b.append(point(3))
        b.dropFirst { $0 < 2 }
        #expect(b.takeAll().map(\.time) == [2, 3])
    }
}
