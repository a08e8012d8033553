import TockModel

/// `|join(others...)`: pairs the data of its parents (port 0 = the parent on the left, then the node
/// arguments in order) by group and by time rounded to `.tolerance`, prefixing each parent's fields
/// with its `.as` name and `.delimiter`.
///
/// Follows Kapacitor's `join.go`: a joined set is emitted when every parent contributed to it, or,
/// for an outer join (`.fill`), once every parent has moved past its time; with `.on(tags)` a parent
/// grouped by fewer tags is matched with each of the more specific groups of the other parents.
/// Everything still buffered is emitted when the task stops.
final class JoinNode: Node {
    enum Fill: Sendable, Equatable {
        case none, null
        case value(FieldValue)
    }

    let names: [String]
    let on: [String]
    let delimiter: String
    let tolerance: Int64
    let fill: Fill
    let streamName: String?
    let outputType: EdgeType

    private var groups: [GroupID: JoinGroup] = [:]
    private var groupOrder: [GroupID] = []

    // State for `.on`: low marks per parent and group, and points waiting for a match.
    private struct SourceGroup: Hashable {
        var source: Int
        var group: GroupID
    }
    private var lowMarks: [SourceGroup: Timestamp] = [:]
    private var matchBuffers: [GroupID: [(source: Int, message: Message)]] = [:]
    private var specificBuffers: [GroupID: [(source: Int, message: Message)]] = [:]
    private var reported: Set<Int> = []

    init(
        names: [String], on: [String], delimiter: String, tolerance: Int64, fill: Fill, streamName: String?,
        outputType: EdgeType
    ) {
        self.names = names
        self.on = on
        self.delimiter = delimiter
        self.tolerance = tolerance
        self.fill = fill
        self.streamName = streamName
        self.outputType = outputType
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        guard port < names.count else {
            throw TransformError("join received data from parent \(port + 1) but .as() names only \(names.count) parents")
        }
        if on.isEmpty {
            collect(port, message, group: message.group, output: output)
        } else {
            match(port, message, output: output)
        }
    }

    func stop(output: any NodeOutput) -> StopResult {
        for id in groupOrder {
            guard let g = groups[id] else { continue }
            g.emitAll(self, output: output)
        }
        return .done
    }

    private func round(_ t: Timestamp) -> Timestamp { GoTime.round(t, tolerance) }

    private func collect(_ source: Int, _ message: Message, group id: GroupID, output: any NodeOutput) {
        let g: JoinGroup
        if let existing = groups[id] {
            g = existing
        } else {
            g = JoinGroup(sources: names.count)
            groups[id] = g
            groupOrder.append(id)
        }
        g.collect(source, message, time: round(message.time), node: self, output: output)
    }

    // MARK: .on(tags)

    private func dimensions(_ m: Message) -> Dimensions {
        switch m {
        case .point(let p): p.dimensions
        case .batch(let b): b.dimensions
        }
    }

    private func groupTags(_ m: Message) -> Tags {
        switch m {
        case .point(let p): p.groupTags
        case .batch(let b): b.tags
        }
    }

    private func match(_ source: Int, _ message: Message, output: any NodeOutput) {
        if reported.count < names.count { reported.insert(source) }
        let allReported = reported.count == names.count
        let t = round(message.time)
        let dims = dimensions(message)
        let id = GroupID(name: message.name, tags: groupTags(message), dimensions: Dimensions(byName: dims.byName, tagNames: on))
        lowMarks[SourceGroup(source: source, group: id)] = t

        // The oldest time across parents for this group, once all parents have reported.
        var lowMark: Timestamp?
        if allReported {
            for s in 0..<names.count {
                let lm = lowMarks[SourceGroup(source: s, group: id)] ?? Int64.min
                if lowMark == nil || lm < lowMark! { lowMark = lm }
            }
        }
        let before: (Timestamp) -> Bool = { x in lowMark.map { x < $0 } ?? false }

        // Specific points that can no longer find a match go on alone.
        if allReported, var buf = specificBuffers[id] {
            var i = 0
            while i < buf.count, before(round(buf[i].message.time)) {
                collect(buf[i].source, buf[i].message, group: buf[i].message.group, output: output)
                i += 1
            }
            buf.removeFirst(i)
            specificBuffers[id] = buf
        }

        if dims.tagNames.count > on.count {
            var matched = false
            if var matches = matchBuffers[id] {
                var i = 0
                while i < matches.count {
                    let mt = round(matches[i].message.time)
                    if mt == t {
                        sendMatch(specific: (source, message), matched: matches[i], output: output)
                        matched = true
                    }
                    if !before(mt) { break }
                    i += 1
                }
                if allReported {
                    matches.removeFirst(Swift.min(i, matches.count))
                    matchBuffers[id] = matches
                }
            }
            if !matched {
                if allReported && before(t) {
                    collect(source, message, group: message.group, output: output)
                } else {
                    specificBuffers[id, default: []].append((source, message))
                }
            }
        } else {
            matchBuffers[id, default: []].append((source, message))
            if var buf = specificBuffers[id] {
                var i = 0
                while i < buf.count, round(buf[i].message.time) == t {
                    sendMatch(specific: buf[i], matched: (source, message), output: output)
                    i += 1
                }
                buf.removeFirst(i)
                specificBuffers[id] = buf
            }
        }
    }

    /// Gives the less specific message the specific one's group and sends both to that group.
    private func sendMatch(
        specific: (source: Int, message: Message), matched: (source: Int, message: Message), output: any NodeOutput
    ) {
        let tags = groupTags(specific.message)
        let dims = dimensions(specific.message)
        let group = specific.message.group
        var widened = matched.message
        switch widened {
        case .point(var p):
            p.tags = tags
            p.dimensions = dims
            p.group = group
            widened = .point(p)
        case .batch(var b):
            b.tags = tags
            b.dimensions = dims
            b.group = group
            widened = .batch(b)
        }
        collect(specific.source, specific.message, group: group, output: output)
        collect(matched.source, widened, group: group, output: output)
    }

    // MARK: Joining

    fileprivate func emit(_ set: JoinSet, output: any NodeOutput) {
        switch outputType {
        case .stream:
            if let p = joinPoint(set) { output.emit(.point(p)) }
        case .batch:
            if let b = joinBatch(set) { output.emit(.batch(b)) }
        }
    }

    private func key(_ source: Int, _ field: String) -> String { names[source] + delimiter + field }

    /// Adds the fill for a missing parent, or returns false for an inner join.
    private func addFill(_ fields: inout Fields, source: Int, names fieldNames: [String]) -> Bool {
        switch fill {
        case .none: return false
        // Tock's fields cannot hold null: a null-filled field is left out.
        case .null: return true
        case .value(let v):
            for k in fieldNames { fields[key(source, k)] = v }
            return true
        }
    }

    private func joinPoint(_ set: JoinSet) -> Point? {
        guard case .point(let first)? = set.first else { return nil }
        var fields = Fields()
        for (i, v) in set.values.enumerated() {
            switch v {
            case .point(let p)?:
                for (k, value) in p.fields { fields[key(i, k)] = value }
            case .batch?:
                return nil
            case nil:
                if !addFill(&fields, source: i, names: first.fields.sortedKeys) { return nil }
            }
        }
        let name = streamName ?? first.name
        let tags = first.groupTags
        return Point(
            name: name, tags: tags, fields: fields, time: set.time,
            group: GroupID(name: name, tags: tags, dimensions: first.dimensions), dimensions: first.dimensions)
    }

    private func joinBatch(_ set: JoinSet) -> Batch? {
        guard case .batch(let first)? = set.first else { return nil }
        let batches: [Batch?] = set.values.map { if case .batch(let b)? = $0 { b } else { nil } }
        var indexes = [Int](repeating: 0, count: names.count)
        var empty = [Bool](repeating: false, count: names.count)
        var emptyCount = 0
        var fieldNames: [String]?
        var points: [BatchPoint] = []
        while emptyCount < names.count {
            var row = [BatchPoint?](repeating: nil, count: names.count)
            var rowTime: Timestamp?
            var count = 0
            for i in 0..<names.count where !empty[i] {
                guard let b = batches[i], indexes[i] < b.points.count else {
                    empty[i] = true
                    emptyCount += 1
                    continue
                }
                let bp = b.points[indexes[i]]
                let t = round(bp.time)
                if rowTime == nil { rowTime = t }
                if t < rowTime! {
                    // An earlier point: start the row again from it.
                    rowTime = t
                    for j in row.indices where row[j] != nil {
                        indexes[j] -= 1
                        row[j] = nil
                    }
                    row[i] = bp
                    indexes[i] += 1
                    count = 1
                } else if t == rowTime! {
                    if fieldNames == nil { fieldNames = bp.fields.sortedKeys }
                    row[i] = bp
                    indexes[i] += 1
                    count += 1
                }
            }
            if count == 0 { continue }
            var fields = Fields()
            var keep = true
            for (i, bp) in row.enumerated() {
                if let bp {
                    for (k, v) in bp.fields { fields[key(i, k)] = v }
                } else if !addFill(&fields, source: i, names: fieldNames ?? []) {
                    keep = false
                    break
                }
            }
            if keep { points.append(BatchPoint(time: rowTime!, fields: fields, tags: first.tags)) }
        }
        let name = streamName ?? first.name
        return Batch(
            name: name, group: GroupID(name: name, tags: first.tags, dimensions: first.dimensions), tags: first.tags,
            dimensions: first.dimensions, tmax: set.time, points: points)
    }
}

/// The data of several parents at one (rounded) time.
private struct JoinSet {
    var time: Timestamp
    var values: [Message?]
    var size = 0

    init(time: Timestamp, sources: Int) {
        self.time = time
        values = Array(repeating: nil, count: sources)
    }

    var ready: Bool { size == values.count }
    var first: Message? { values.first { $0 != nil } ?? nil }

    mutating func set(_ source: Int, _ m: Message) {
        values[source] = m
        size += 1
    }
}

/// The joined sets of one group, emitted oldest first.
private final class JoinGroup {
    var sets: [Timestamp: [JoinSet]] = [:]
    /// The latest time each parent has reached (`nil` before its first message).
    var heads: [Timestamp?]
    var oldest: Timestamp?

    init(sources: Int) { heads = Array(repeating: nil, count: sources) }

    func collect(_ source: Int, _ m: Message, time t: Timestamp, node: JoinNode, output: any NodeOutput) {
        if oldest == nil || t < oldest! { oldest = t }
        // Mutate the queue in place (no copy of the array).
        if let i = sets[t]?.firstIndex(where: { $0.values[source] == nil }) {
            sets[t]![i].set(source, m)
        } else {
            var s = JoinSet(time: t, sources: heads.count)
            s.set(source, m)
            sets[t, default: []].append(s)
        }
        heads[source] = t
        emit(onlyReady: onlyReadySets(), node: node, output: output)
    }

    /// Whether some parent has not yet moved past the oldest time (then only complete sets may go).
    func onlyReadySets() -> Bool {
        guard let oldest else { return true }
        return heads.contains { h in h.map { $0 <= oldest } ?? true }
    }

    func emit(onlyReady: Bool, node: JoinNode, output: any NodeOutput) {
        guard !sets.isEmpty, let t = oldest, let queue = sets[t] else { return }
        var i = 0
        while i < queue.count, queue[i].ready || !onlyReady {
            node.emit(queue[i], output: output)
            i += 1
        }
        if i == queue.count {
            sets[t] = nil
        } else {
            sets[t] = Array(queue[i...])
        }
        oldest = sets.keys.min()
        if !onlyReady {
            emit(onlyReady: onlyReadySets(), node: node, output: output)
        }
    }

    func emitAll(_ node: JoinNode, output: any NodeOutput) {
        while !sets.isEmpty { emit(onlyReady: false, node: node, output: output) }
    }
}

enum JoinSpecs {
    static let specs: [NodeSpec] = [
        NodeSpec(
            name: "join", arguments: Signature([.node], variadic: .node),
            properties: [
                PropertySpec("as", Signature([.string], variadic: .string)),
                PropertySpec("on", Signature([.string], variadic: .string)),
                PropertySpec("delimiter", Signature([.string])),
                PropertySpec("tolerance", Signature([.duration])),
                PropertySpec("fill", Signature([.oneOf([.string, .number])])),
                PropertySpec("streamName", Signature([.string])),
                // pipeline/join.go's DeleteAll: accepted; Kapacitor's join never sees a delete-group message.
                PropertySpec("deleteAll", Signature([.bool])),
            ],
            wants: nil, provides: .same
        ) { config in
            let names = config.strings("as")
            guard !names.isEmpty else {
                throw NodeConfigurationError("a call to join.as() is required to specify the output stream prefixes.")
            }
            if let n = config.inputCount, n != names.count {
                throw NodeConfigurationError("number of prefixes specified by join.as() must match the number of joined streams")
            }
            let delimiter = config.string("delimiter") ?? "."
            for name in names {
                if name.isEmpty { throw NodeConfigurationError("must provide a prefix name for the join node, see .as() property method") }
                if !delimiter.isEmpty && name.contains(delimiter) {
                    throw NodeConfigurationError("cannot use name \(name) as field prefix, it contains the delimiter \"\(delimiter)\"")
                }
            }
            if Set(names).count != names.count {
                throw NodeConfigurationError("cannot use the same prefix name see .as() property method")
            }
            let fill: JoinNode.Fill
            switch config.property("fill")?.first {
            case nil, .string("none")?: fill = .none
            case .string("null")?: fill = .null
            case .int(let i)?: fill = .value(.int(i))
            case .float(let f)?: fill = .value(.double(f))
            case .string(let s)?: throw NodeConfigurationError("unexpected fill option \(s)")
            default: throw NodeConfigurationError("fill must be 'none', 'null' or a number")
            }
            return JoinNode(
                names: names, on: config.strings("on"), delimiter: delimiter, tolerance: config.duration("tolerance") ?? 0,
                fill: fill, streamName: config.string("streamName"), outputType: config.inputType)
        },
        NodeSpec(
            name: "union", arguments: Signature([.node], variadic: .node),
            properties: [PropertySpec("rename", Signature([.string]))], wants: nil, provides: .same
        ) { config in
            UnionNode(rename: config.string("rename").flatMap { $0.isEmpty ? nil : $0 }, inputCount: config.inputCount ?? 1)
        },
    ]
}

// MARK: Barriers (Kapacitor's join.go `Barrier`)

extension JoinNode {
    /// A barrier moves its parent's head to the barrier's time, so sets no longer waiting on that parent go out
    /// (an outer join's incomplete ones included); the barrier is handed on. A group deletion reaching a join goes no
    /// further: Kapacitor's join reads its parents with a multi-consumer that drops delete-group messages.
    func barrier(_ barrier: Barrier, port: Int, output: any NodeOutput) throws {
        guard port < names.count else { return }
        let id = barrier.group
        let g: JoinGroup
        if let existing = groups[id] {
            g = existing
        } else {
            g = JoinGroup(sources: names.count)
            groups[id] = g
            groupOrder.append(id)
        }
        g.barrier(port, time: GoTime.round(barrier.time, tolerance), node: self, output: output)
        output.emit(barrier: barrier)
    }

    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {}
}

extension JoinGroup {
    func barrier(_ source: Int, time t: Timestamp, node: JoinNode, output: any NodeOutput) {
        heads[source] = t
        emit(onlyReady: onlyReadySets(), node: node, output: output)
    }
}
