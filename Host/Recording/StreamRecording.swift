import Foundation
import LineProtocol
import TockModel

/// Reads a Kapacitor stream recording (`.srpl`), plain or gzip, as Kapacitor's replay does
/// (`readPointsFromIO` in Kapacitor's replay.go): each point is three lines, its database, its retention
/// policy and the point in line protocol with nanosecond times (`precision = "n"` in services/replay/service.go).
///
/// The points are handed over in runs, in file order, with their database and retention policy set.
/// A line that does not parse, or a file that ends inside a triple, is an error naming the file and line.
public struct StreamRecordingReader {
    public let path: String
    public init(path: String) {
        self.path = path
    }

    /// Reads the whole recording, calling `body` with runs of points (at most about `runLength` each).
    /// - Parameter rebase: when set, the time the first point is moved to; every point moves by as much.
    /// - Returns: how many points were read.
    @discardableResult
    public func read(runLength: Int = 8192, rebase: RebaseTime? = nil,
                     _ body: ([Point]) throws -> Void) throws -> Int {
        try withoutActuallyEscaping(body) { body in
            var state = State(path: path, runLength: runLength, rebase: rebase, body: body)
            try RecordingFile.forEachDecompressedChunk(path: path) { chunk in try state.consume(chunk) }
            try state.finish()
            return state.count
        }
    }

    /// The line-splitting state machine over the decompressed text.
    private struct State {
        let path: String
        let runLength: Int
        let rebase: RebaseTime?
        let body: ([Point]) throws -> Void
        var shift: Int64?
        var pending: [UInt8] = []
        /// 0: database line next, 1: retention policy, 2: point.
        var phase = 0
        var line = 0
        var database = ""
        var retentionPolicy = ""
        var parsers: [String: LineProtocolParser] = [:]
        var run: [Point] = []
        var count = 0

        init(path: String, runLength: Int, rebase: RebaseTime?, body: @escaping ([Point]) throws -> Void) {
            self.path = path
            self.runLength = runLength
            self.rebase = rebase
            self.body = body
        }

        mutating func consume(_ chunk: UnsafeRawBufferPointer) throws {
            var start = 0
            let bytes = chunk.bindMemory(to: UInt8.self)
            for i in 0..<bytes.count where bytes[i] == UInt8(ascii: "\n") {
                if pending.isEmpty {
                    try handleLine(UnsafeBufferPointer(rebasing: bytes[start..<i]))
                } else {
                    pending.append(contentsOf: bytes[start..<i])
                    let whole = pending
                    pending.removeAll(keepingCapacity: true)
                    try whole.withUnsafeBufferPointer { try handleLine($0) }
                }
                start = i + 1
            }
            if start < bytes.count {
                pending.append(contentsOf: bytes[start..<bytes.count])
                if pending.count > 64 << 20 {
                    throw RecordingError(file: path, line: line + 1, "a line longer than 64 MiB")
                }
            }
        }

        mutating func handleLine(_ text: UnsafeBufferPointer<UInt8>) throws {
            line += 1
            switch phase {
            case 0:
                database = String(decoding: text, as: UTF8.self)
                phase = 1
            case 1:
                retentionPolicy = String(decoding: text, as: UTF8.self)
                phase = 2
            default:
                phase = 0
                let key = database + "\n" + retentionPolicy
                var parser = parsers.removeValue(forKey: key)
                    ?? LineProtocolParser(precision: .nanoseconds, defaultTime: 0, database: database,
                                          retentionPolicy: retentionPolicy)
                let before = run.count
                let errors = parser.parse(UnsafeRawBufferPointer(text), into: &run)
                if parsers.count < 1024 { parsers[key] = parser }
                if let e = errors.first {
                    throw RecordingError(file: path, line: line, "column \(e.column): \(e.message)")
                }
                guard run.count == before + 1 else {
                    throw RecordingError(file: path, line: line, "expected one line-protocol point, found \(run.count - before)")
                }
                if shift == nil { shift = rebase.map { $0.target - run[before].time } ?? 0 }
                if let shift, shift != 0 { run[before].time &+= shift }
                count += 1
                if run.count >= runLength {
                    try body(run)
                    run.removeAll(keepingCapacity: true)
                }
            }
        }

        mutating func finish() throws {
            if !pending.isEmpty {
                let last = pending
                pending = []
                try last.withUnsafeBufferPointer { try handleLine($0) }
            }
            if phase != 0 {
                throw RecordingError(file: path, line: line,
                                     "invalid replay file format, expected another line (a \(phase == 1 ? "retention policy" : "line-protocol point") after line \(line))")
            }
            if !run.isEmpty { try body(run) }
        }
    }
}
