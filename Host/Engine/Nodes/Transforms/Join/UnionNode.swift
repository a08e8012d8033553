import TockModel

/// `|union(others...)`: merges its parents' data into one edge in time order, optionally renaming
/// the measurement (`.rename`).
///
/// As in Kapacitor, messages are buffered per parent and released, oldest first, only while every
/// parent has something buffered, so a parent that stops sending holds the union back until the
/// task stops (then everything is drained in time order).
final class UnionNode: Node {
    let rename: String?
    private var queues: [[Message]]
    private var heads: [Int]

    init(rename: String?, inputCount: Int) {
        self.rename = rename
        queues = Array(repeating: [], count: Swift.max(1, inputCount))
        heads = Array(repeating: 0, count: queues.count)
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        while port >= queues.count {
            queues.append([])
            heads.append(0)
        }
        var m = message
        if let rename {
            switch m {
            case .point(var p):
                p.name = rename
                p.group = GroupID(name: rename, tags: p.tags, dimensions: p.dimensions)
                m = .point(p)
            case .batch(var b):
                b.name = rename
                b.group = GroupID(name: rename, tags: b.tags, dimensions: b.dimensions)
                m = .batch(b)
            }
        }
        queues[port].append(m)
        release(drain: false, output: output)
    }

    func stop(output: any NodeOutput) -> StopResult {
        release(drain: true, output: output)
        return .done
    }

    private func release(drain: Bool, output: any NodeOutput) {
        while true {
            var next: Int?
            for i in queues.indices {
                if heads[i] == queues[i].count {
                    if !drain { compact(); return }
                    continue
                }
                if let n = next, queues[n][heads[n]].time <= queues[i][heads[i]].time { continue }
                next = i
            }
            guard let n = next else { compact(); return }
            output.emit(queues[n][heads[n]])
            heads[n] += 1
        }
    }

    /// Drops released messages from the front of the queues.
    private func compact() {
        for i in queues.indices where heads[i] > 0 && heads[i] * 2 >= queues[i].count {
            queues[i].removeFirst(heads[i])
            heads[i] = 0
        }
    }
}
