/// A first-in first-out queue on a ring buffer: O(1) at both ends, and its storage released once it has drained, so
/// that an idle task's input queue costs a few words whatever its backlog was during a burst.
struct RingQueue<Element> {
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Appends at the back, doubling the storage when it is full.
    mutating func append(_ element: consuming Element) {
        if count == storage.count { grow() }
        var tail = head + count
        if tail >= storage.count { tail -= storage.count }
        storage[tail] = consume element
        count += 1
    }

    /// Takes the front element out (moved: the queue keeps no reference to it).
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head].take()
        head += 1
        if head == storage.count { head = 0 }
        count -= 1
        if count == 0 { releaseIfLarge() }
        return element
    }

    /// The front element, without taking it out.
    var first: Element? { count > 0 ? storage[head] : nil }

    /// Takes every element out, front first, and releases the storage.
    mutating func removeAll() -> [Element] {
        var all: [Element] = []
        all.reserveCapacity(count)
        while let e = popFirst() { all.append(e) }
        storage = []
        head = 0
        return all
    }

    private mutating func grow() {
        var bigger: [Element?] = []
        bigger.reserveCapacity(Swift.max(8, storage.count * 2))
        for i in 0..<count {
            var j = head + i
            if j >= storage.count { j -= storage.count }
            bigger.append(storage[j].take())
        }
        bigger.append(contentsOf: repeatElement(nil, count: bigger.capacity - bigger.count))
        storage = bigger
        head = 0
    }

    /// Drained: a queue that grew during a burst gives its storage back (small ones keep theirs for the next job).
    private mutating func releaseIfLarge() {
        head = 0
        if storage.count > 64 { storage = [] }
    }
}
