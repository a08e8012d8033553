import TockModel

/// A time window's buffered points in arrival order, kept in chunks that are allocated at their final size and never
/// grown.
///
/// A window that grows one array by doubling leaves the smaller arrays it outgrew behind, and since every group's
/// window grows at the same pace, the allocator can rarely reuse them: a long window cost about twice its points.
/// Chunks of one size are reused as windows close. The first chunk can be sized for the points expected (a tumbling
/// window's previous count), so a window that holds what the last one held is one array, handed on without copying.
struct WindowBuffer {
    /// Points per chunk after the first.
    static let chunkSize = 128

    private var chunks: [[BatchPoint]] = []
    /// How many points of `chunks[0]` were dropped from the front.
    private var head = 0
    /// The capacity of the next first chunk.
    var expected = 0
    /// The points held.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ p: BatchPoint) {
        let last = chunks.count - 1
        if last >= 0 && chunks[last].count < chunks[last].capacity {
            chunks[last].append(p)
        } else {
            var chunk: [BatchPoint] = []
            chunk.reserveCapacity(last < 0 && expected > 0 ? expected : Self.chunkSize)
            chunk.append(p)
            chunks.append(chunk)
        }
        count += 1
    }

    /// Drops points from the front while `drop` holds for their time.
    mutating func dropFirst(while drop: (Timestamp) -> Bool) {
        while !chunks.isEmpty {
            let first = chunks[0]
            while head < first.count && drop(first[head].time) {
                head += 1
                count -= 1
            }
            if head < first.count { return }
            chunks.removeFirst()
            head = 0
        }
    }

    /// A copy of the points held, in one array.
    func array() -> [BatchPoint] {
        var out: [BatchPoint] = []
        out.reserveCapacity(count)
        for (i, chunk) in chunks.enumerated() {
            out.append(contentsOf: i == 0 ? chunk[head...] : chunk[...])
        }
        return out
    }

    /// The points held, in one array, leaving the buffer empty; a buffer of one chunk hands it over without copying.
    mutating func takeAll() -> [BatchPoint] {
        var out: [BatchPoint]
        if chunks.count == 1 {
            out = chunks.removeLast()
            if head > 0 { out.removeFirst(head) }
        } else {
            out = array()
            chunks.removeAll()
        }
        head = 0
        count = 0
        return out
    }
}
