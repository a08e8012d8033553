import TockModel

/// Barriers and group deletions at `window`, as Kapacitor's `window.go`.
extension WindowNode {
    /// A window by time closes on a barrier as on a point at the barrier's time (without adding it); the barrier
    /// goes no further. A window by count hands the barrier on. A barrier for a group the window has not seen is
    /// dropped (Kapacitor would open an empty window at the barrier's time).
    func barrier(_ barrier: Barrier, port: Int, output: any NodeOutput) throws {
        guard period > 0 else {
            output.emit(barrier: barrier)
            return
        }
        if let b = timeWindows[barrier.group]?.close(at: barrier.time) { output.emit(.batch(b)) }
    }

    /// Forgets the group's window (its buffered points are dropped) and hands the deletion on.
    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {
        timeWindows[group] = nil
        countWindows[group] = nil
        output.emit(deleteGroup: group)
    }
}

extension TimeWindow {
    /// The batch a barrier at `time` closes, if `time` reached the window's end.
    func close(at time: Int64) -> Batch? {
        guard time >= nextEmit else { return nil }
        if every == 0 {
            purge(time.saturatingSubtract(period), inclusive: false)
            nextEmit = time
            return batch(time)
        }
        purge(nextEmit.saturatingSubtract(period), inclusive: true)
        let out = batch(nextEmit)
        nextEmit = time.saturatingAdd(every)
        if align { nextEmit = GoDuration.truncate(nextEmit, every) }
        return out
    }
}
