import Synchronization
import TockModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `|stats(interval)`: every `interval` of wall-clock time, emits one point per group its parent
/// has emitted, measurement `stats`, field `emitted` = how many points (or batches) of that group
/// the parent has emitted so far (an integer); a single ungrouped point with `emitted` 0 before any.
/// `.align()` rounds the emission times to the interval. This is what `deadman` watches.
final class StatsNode: Node {
    let interval: Int64
    let align: Bool
    private let counts = StatsCounts()
    private var timer: Task<Void, Never>?

    init(interval: Int64, align: Bool) {
        self.interval = interval
        self.align = align
    }

    func start(output: any NodeOutput) throws {
        let counts = self.counts, interval = self.interval, align = self.align
        timer = Task {
            let clock = ContinuousClock()
            var next = clock.now
            if align {
                // Start roughly on an interval boundary.
                let now = StatsNode.wallClock()
                next = next.advanced(by: .nanoseconds(GoTime.truncate(now, interval) + interval - now))
            }
            while !Task.isCancelled {
                next = next.advanced(by: .nanoseconds(interval))
                try? await clock.sleep(until: next)
                if Task.isCancelled { return }
                for p in counts.snapshot(at: StatsNode.wallClock(), interval: interval, align: align) {
                    output.post(.point(p))
                }
            }
        }
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(let p): counts.count(p.group, tags: p.groupTags, dimensions: p.dimensions)
        case .batch(let b): counts.count(b.group, tags: b.tags, dimensions: b.dimensions)
        }
    }

    func stop(output: any NodeOutput) -> StopResult {
        timer?.cancel()
        timer = nil
        return .done
    }

    /// The points the node emits at wall-clock time `now` (Unix ns).
    func snapshot(at now: Timestamp) -> [Point] { counts.snapshot(at: now, interval: interval, align: align) }

    /// The current wall-clock time in Unix nanoseconds.
    static func wallClock() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// Per-group emitted counts, shared between the task's executor and the stats timer.
final class StatsCounts: Sendable {
    private struct Entry {
        var tags: Tags
        var dimensions: Dimensions
        var emitted: Int64
    }
    private struct State {
        var entries: [GroupID: Entry] = [:]
        var order: [GroupID] = []
    }
    private let state = Mutex(State())

    func count(_ group: GroupID, tags: Tags, dimensions: Dimensions) {
        state.withLock { s in
            if s.entries[group] == nil {
                s.entries[group] = Entry(tags: tags, dimensions: dimensions, emitted: 0)
                s.order.append(group)
            }
            s.entries[group]!.emitted += 1
        }
    }

    func snapshot(at now: Timestamp, interval: Int64, align: Bool) -> [Point] {
        let time = align ? GoTime.round(now, interval) : now
        return state.withLock { s in
            if s.order.isEmpty {
                return [Point(name: "stats", fields: ["emitted": .int(0)], time: time)]
            }
            return s.order.map { id in
                let e = s.entries[id]!
                return Point(
                    name: "stats", tags: e.tags, fields: ["emitted": .int(e.emitted)], time: time,
                    group: GroupID(name: "stats", tags: e.tags, dimensions: e.dimensions), dimensions: e.dimensions)
            }
        }
    }
}

enum StatsSpecs {
    static let specs: [NodeSpec] = [
        NodeSpec(
            name: "stats", arguments: Signature([.duration]), properties: [PropertySpec("align")],
            wants: nil, provides: .stream
        ) { config in
            guard let interval = config.durationArgument(0), interval > 0 else {
                throw NodeConfigurationError("stats needs a positive interval")
            }
            return StatsNode(interval: interval, align: config.has("align"))
        },
    ]
}
