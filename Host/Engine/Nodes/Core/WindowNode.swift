import TockModel

/// `|window()`: collects each group's points and emits them as a batch, in event time as Kapacitor does.
///
/// By time (`.period`, `.every`): a window closes when a point at or past its end arrives; the batch holds the
/// points in `[end − period, end)` and has `tmax = end`. The first end is the first point's time + every
/// (+ period with `.fillPeriod()`), truncated to a multiple of every with `.align()`; later ends are the
/// closing point's time + every (aligned likewise). With `every` = 0 every point emits `(t − period, t]`.
/// By count (`.periodCount`, `.everyCount`, both required, no `.align()`): the last periodCount points every
/// everyCount points.
/// Nothing is emitted at the end of the input: an unfinished window is not a window.
final class WindowNode: Node {
    let period: Int64
    let every: Int64
    let align: Bool
    let fillPeriod: Bool
    let periodCount: Int
    let everyCount: Int
    var timeWindows = GroupTable<TimeWindow>()
    var countWindows: [GroupID: CountWindow] = [:]

    init(_ c: NodeConfiguration) throws {
        period = c.duration("period") ?? 0
        every = c.duration("every") ?? 0
        align = c.has("align")
        fillPeriod = c.has("fillPeriod")
        periodCount = Int(c.int("periodCount") ?? 0)
        everyCount = Int(c.int("everyCount") ?? 0)
        let byTime = c.has("period") || c.has("every")
        let byCount = c.has("periodCount") || c.has("everyCount")
        if byTime && byCount { throw NodeConfigurationError("window can be by time or by count, not both") }
        if period < 0 || every < 0 { throw NodeConfigurationError("window period and every must not be negative") }
        if periodCount < 0 || everyCount < 0 { throw NodeConfigurationError("window periodCount and everyCount must not be negative") }
        if period == 0 && periodCount == 0 {
            throw NodeConfigurationError("window needs either .period(duration) or .periodCount(n)")
        }
        // Kapacitor's pipeline/window.go validate().
        if periodCount != 0 && align { throw NodeConfigurationError("can only align windows based off time, not count") }
        if periodCount != 0 && everyCount <= 0 { throw NodeConfigurationError("everyCount must be greater than zero") }
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        guard case .point(let p) = message else { throw LambdaError("window() receives points only") }
        if period > 0 {
            if let w = timeWindows.find(p.group) {
                if let b = w.insert(p) { output.emit(.batch(b)) }
            } else {
                let w = TimeWindow(first: p, period: period, every: every, align: align, fillPeriod: fillPeriod)
                timeWindows[p.group] = w
                if let b = w.insert(p) { output.emit(.batch(b)) }
            }
        } else {
            let w: CountWindow
            if let existing = countWindows[p.group] {
                w = existing
            } else {
                w = CountWindow(first: p, period: periodCount, every: everyCount, fillPeriod: fillPeriod)
                countWindows[p.group] = w
            }
            if let b = w.insert(p) { output.emit(.batch(b)) }
        }
    }
}

extension WindowNode: PointRunNode {
    func receive(points: inout [Point], port: Int, output: NodeRuntime) {
        guard period > 0 else {
            for p in points {
                do { try receive(.point(p), port: port, output: output) } catch { output.dropped(error) }
            }
            return
        }
        // The last group's window is kept at hand: consecutive points of one group skip the lookup, and the others are
        // found by their group's storage identity (the points of a group share it).
        var lastIdentity: UInt = 0
        var last: TimeWindow? = nil
        // The table is moved out of the node for the run (one exclusive access, not one per point) and back: what the
        // batches emitted here reach is downstream, never this node.
        var windows = GroupTable<TimeWindow>()
        swap(&windows, &timeWindows)
        defer { swap(&windows, &timeWindows) }
        points.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices {
                let identity = buffer[i].group.storageIdentity
                let w: TimeWindow
                if identity == lastIdentity, let last {
                    w = last
                } else if let existing = windows.find(buffer[i].group) {
                    w = existing
                } else {
                    w = TimeWindow(first: buffer[i], period: period, every: every, align: align, fillPeriod: fillPeriod)
                    windows[buffer[i].group] = w
                }
                lastIdentity = identity
                last = w
                // The fields move into the window (swapped out of the point, which dies unread), so they are not
                // retained again; the tags are the series' (interned: not reference-counted).
                var bp = BatchPoint(time: buffer[i].time, fields: Fields(), tags: buffer[i].series.tags)
                swap(&bp.fields, &buffer[i].fields)
                if let b = w.insert(bp) { output.emit(.batch(b)) }
            }
        }
        points.removeAll()
    }
}

/// One group's time window.
final class TimeWindow {
    let period: Int64
    let every: Int64
    let align: Bool
    let name: String
    let group: GroupID
    let tags: Tags
    let dimensions: Dimensions
    var nextEmit: Int64
    /// Buffered points in arrival order.
    var buffer = WindowBuffer()

    init(first p: Point, period: Int64, every: Int64, align: Bool, fillPeriod: Bool) {
        self.period = period
        self.every = every
        self.align = align
        name = p.name
        group = p.group
        tags = p.groupTags
        dimensions = p.dimensions
        if fillPeriod {
            var next = p.time.saturatingAdd(period)
            if align && every > 0 {
                let first = next
                next = GoDuration.truncate(next, every)
                if next <= first { next = next.saturatingAdd(every) }
            }
            nextEmit = next
        } else {
            nextEmit = p.time.saturatingAdd(every)
            if align && every > 0 { nextEmit = GoDuration.truncate(nextEmit, every) }
        }
    }

    /// Drops buffered points older than `oldest` (`inclusive`: a point at `oldest` stays).
    func purge(_ oldest: Int64, inclusive: Bool) {
        if inclusive {
            buffer.dropFirst { $0 < oldest }
        } else {
            buffer.dropFirst { $0 <= oldest }
        }
    }

    func batch(_ tmax: Int64) -> Batch {
        Batch(name: name, group: group, tags: tags, dimensions: dimensions, tmax: tmax, points: buffer.array())
    }

    func insert(_ p: Point) -> Batch? { insert(BatchPoint(p)) }

    func insert(_ p: consuming BatchPoint) -> Batch? {
        let time = p.time
        var out: Batch? = nil
        if every == 0 {
            buffer.append(p)
            if time >= nextEmit {
                purge(time.saturatingSubtract(period), inclusive: false)
                out = batch(time)
                nextEmit = time
            }
        } else {
            if time >= nextEmit {
                purge(nextEmit.saturatingSubtract(period), inclusive: true)
                if period == every && !align {
                    // Tumbling: the next window starts at `time`, after every buffered point (all are before the
                    // old end), so the next purge would drop them all; they move into the batch instead.
                    let points = buffer.takeAll()
                    out = Batch(name: name, group: group, tags: tags, dimensions: dimensions, tmax: nextEmit, points: points)
                    // The next window of a steady series holds about as many points: room for them in its first chunk
                    // (up to a bound: one burst must not make every later window reserve as much).
                    buffer.expected = Swift.min(points.count, 8192)
                } else {
                    out = batch(nextEmit)
                }
                nextEmit = time.saturatingAdd(every)
                if align { nextEmit = GoDuration.truncate(nextEmit, every) }
            }
            buffer.append(p)
        }
        return out
    }
}

/// One group's count window: a ring of the last `period` points.
final class CountWindow {
    let period: Int
    let every: Int
    let name: String
    let group: GroupID
    let tags: Tags
    let dimensions: Dimensions
    var ring: [BatchPoint] = []
    var next = 0
    var count = 0
    var nextEmit: Int

    init(first p: Point, period: Int, every: Int, fillPeriod: Bool) {
        self.period = period
        self.every = every
        name = p.name
        group = p.group
        tags = p.groupTags
        dimensions = p.dimensions
        nextEmit = fillPeriod ? period : every
        ring.reserveCapacity(Swift.min(period, 1024))  // grows with the points that arrive, not the count asked
    }

    func insert(_ p: Point) -> Batch? {
        if ring.count < period {
            ring.append(BatchPoint(p))
        } else {
            ring[next] = BatchPoint(p)
        }
        next = (next + 1) % period
        count += 1
        guard count == nextEmit else { return nil }
        nextEmit += every
        let points = ring.count < period ? ring : Array(ring[next...] + ring[..<next])
        return Batch(name: name, group: group, tags: tags, dimensions: dimensions, tmax: points.last?.time ?? p.time, points: points)
    }
}
