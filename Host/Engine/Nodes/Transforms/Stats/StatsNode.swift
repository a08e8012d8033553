import Dispatch
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
/// `.align()` waits for an interval boundary before the first emission and rounds the emission times to the
/// interval. This is what `deadman` watches. Kapacitor's stats node is a source of the pipeline: the graph draws no
/// edge into it (``PipelineNode/drawnAsSource``) and a `noop` child keeps a watched node that has no other child.
final class StatsNode: Node {
    let interval: Int64
    let align: Bool
    private let counts = StatsCounts()
    private var timer: (any DispatchSourceTimer)?

    init(interval: Int64, align: Bool) {
        self.interval = interval
        self.align = align
    }

    /// Emits on a Dispatch timer (not a Swift task, so that work blocking the cooperative pool cannot delay it):
    /// without `.align()` every interval from the start, stamped with the wall clock; with it, first at the next
    /// interval boundary, stamped with the time the wait began rounded to the interval, then every interval,
    /// stamped with the wall clock rounded, as Kapacitor's stats.go runStats does.
    func start(output: any NodeOutput) throws {
        let counts = self.counts, interval = self.interval, align = self.align
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "tock.stats"))
        let started = StatsNode.wallClock()
        var firstStamp: Timestamp? = align ? started : nil
        let delay = align ? GoTime.truncate(started, interval) + interval - started : interval
        timer.schedule(deadline: .now() + .nanoseconds(Int(delay)), repeating: .nanoseconds(Int(interval)),
                       leeway: .milliseconds(1))
        timer.setEventHandler {
            let stamp = firstStamp ?? StatsNode.wallClock()
            firstStamp = nil
            for p in counts.snapshot(at: stamp, interval: interval, align: align) {
                output.post(.point(p))
            }
        }
        self.timer = timer
        timer.resume()
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
