import Engine
import Foundation
import Recording
import TockModel

/// A running `record stream`: writes every point of the task's dbrps to a `.srpl` file until the recording's stop.
///
/// As Kapacitor's `doRecordStream`, the first point later than `stop` ends it (and is not recorded). So that a
/// recording of data with old timestamps also ends, a point more than the recording's duration after the first
/// recorded point ends it too; and with no data arriving, the wall clock reaching `stop` ends it.
final class StreamRecorder: PointTap, @unchecked Sendable {
    let id: String
    let dbrps: Set<DBRP>
    /// Nanoseconds since the epoch: the recording's end, in data time and on the wall clock.
    let stop: Int64
    let started: Int64
    private let lock = NSLock()
    private var writer: StreamRecordingWriter?
    private var firstTime: Int64?
    private var lastTime: Int64?
    private var ended = false
    private let onEnd: @Sendable (StreamRecorder, (any Error)?) -> Void

    init(id: String, path: String, dbrps: Set<DBRP>, stop: Int64, started: Int64,
         onEnd: @escaping @Sendable (StreamRecorder, (any Error)?) -> Void) throws(RecordingError) {
        self.id = id
        self.dbrps = dbrps
        self.stop = stop
        self.started = started
        self.onEnd = onEnd
        writer = try StreamRecordingWriter(path: path)
    }

    var duration: Int64 { max(0, stop - started) }

    func receive(_ points: [Point]) {
        var reachedEnd = false
        var failure: (any Error)?
        lock.lock()
        if !ended, let writer {
            for p in points {
                if firstTime == nil { firstTime = p.time }
                let (sinceFirst, overflow) = p.time.subtractingReportingOverflow(firstTime!)
                if p.time > stop || overflow || sinceFirst > duration {
                    reachedEnd = true
                    break
                }
                do { try writer.write(p) } catch {
                    failure = error
                    break
                }
                lastTime = max(lastTime ?? p.time, p.time)
            }
        }
        lock.unlock()
        if reachedEnd || failure != nil { end(failure) }
    }

    /// Closes the file and reports the end, once; later calls do nothing.
    func end(_ failure: (any Error)? = nil) {
        lock.lock()
        guard !ended else { lock.unlock(); return }
        ended = true
        var failure = failure
        do { try writer?.close() } catch { if failure == nil { failure = error } }
        writer = nil
        lock.unlock()
        onEnd(self, failure)
    }

    /// How far the recording is, 0 to 1: the larger of the wall-clock and data-time fractions of its duration.
    var progress: Double {
        lock.lock()
        defer { lock.unlock() }
        guard duration > 0 else { return 1 }
        let wall = Double(nowNanoseconds() - started) / Double(duration)
        var data = 0.0
        if let firstTime, let lastTime { data = Double(lastTime - firstTime) / Double(duration) }
        return min(1, max(0, max(wall, data)))
    }

    /// Points written so far.
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return writer?.count ?? 0
    }
}
