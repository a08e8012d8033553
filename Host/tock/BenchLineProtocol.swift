import ArgumentParser
import Foundation
import LineProtocol
import TockModel

/// The issue's workload: `cpu,host=serverNNNN value=V <ts>`, one point per series per second.
struct Workload {
    var points: Int
    var series: Int
    /// First timestamp, ns (2020-09-13T12:26:40Z, a multiple of 10 s).
    var start: Int64 = 1_600_000_000_000_000_000

    /// The line protocol of points `range`, in time order (every series at t, then t + 1 s).
    func bytes(_ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count * 56)
        for k in range {
            let step = k / series, s = k % series
            out.append(contentsOf: "cpu,host=server".utf8)
            appendPadded(s + 1, width: 4, to: &out)
            out.append(contentsOf: " value=".utf8)
            out.append(contentsOf: String(Self.value(step: step, series: s)).utf8)
            out.append(0x20)
            out.append(contentsOf: String(start + Int64(step) * 1_000_000_000).utf8)
            out.append(0x0A)
        }
        return out
    }

    /// A value that varies with time and series, written in at most a few digits.
    static func value(step: Int, series: Int) -> Double { Double((step * 31 + series * 17) % 1000) / 4 }

    private func appendPadded(_ n: Int, width: Int, to out: inout [UInt8]) {
        let digits = Array(String(n).utf8)
        for _ in digits.count..<max(width, digits.count) { out.append(0x30) }
        out.append(contentsOf: digits)
    }
}

struct BenchGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Write the benchmark workload as line protocol to a file.")

    @Option(help: "Number of points.") var points = 10_000_000
    @Option(help: "Number of series (hosts).") var series = 1000
    @Option(name: .shortAndLong, help: "Output file.") var output: String

    func run() throws {
        let workload = Workload(points: points, series: series)
        guard let file = FileHandle(forWritingAtPath: output) ?? {
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            return FileHandle(forWritingAtPath: output)
        }() else { throw ValidationError("cannot write \(output)") }
        try file.truncate(atOffset: 0)
        var at = 0
        while at < points {
            let n = min(100_000, points - at)
            try file.write(contentsOf: workload.bytes(at..<at + n))
            at += n
        }
        try file.close()
    }
}

struct BenchLineProtocol: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineprotocol",
        abstract: "Parse line protocol as a /write body streams in; print MB/s, points/s and peak RSS.",
        discussion: "Reads --input in chunks (as the daemon receives an HTTP body) through StreamingLineParser, "
            + "drops each chunk's points after summing a field, and reports wall and CPU time. Without --input, "
            + "generates --points points over --series series in memory first (not timed).")

    @Option(help: "Line protocol file to parse (from `tock bench generate`).") var input: String?
    @Option(help: "Points to generate when there is no --input.") var points = 1_000_000
    @Option(help: "Series to generate when there is no --input.") var series = 1000
    @Option(help: "Chunk size in bytes.") var chunk = 65_536
    @Option(help: "Timed runs (the median is reported).") var runs = 1
    @Flag(help: "Print one JSON object per run instead of text.") var json = false

    func run() throws {
        let source: ChunkSource = if let input { try ChunkSource.open(input) } else {
            .memory(Workload(points: points, series: series).bytes(0..<points))
        }
        var results: [BenchResult] = []
        for _ in 0..<runs {
            var parser = StreamingLineParser(LineProtocolParser(defaultTime: 0, database: "bench", retentionPolicy: "autogen"))
            var batch: [Point] = []
            batch.reserveCapacity(chunk / 16)
            var count = 0, errors = 0
            var checksum = 0.0
            let timer = BenchTimer()
            let bytes = try source.forEachChunk(size: chunk) { buffer in
                errors += parser.feed(buffer, into: &batch).count
                for k in batch.indices { checksum += batch[k].fields[0].value.numeric ?? 0 }
                count += batch.count
                batch.removeAll(keepingCapacity: true)
            }
            errors += parser.finish(into: &batch).count
            count += batch.count
            var result = timer.stop(name: "lineprotocol", bytes: bytes, points: count)
            result.extra = ["errors": "\(errors)", "checksum": "\(checksum)"]
            results.append(result)
            print(json ? result.json : result.text)
        }
        if runs > 1, !json { print("median: " + BenchResult.median(results).text) }
    }
}

/// Where a benchmark's bytes come from: a file read in chunks, or memory.
enum ChunkSource {
    case file(String)
    case memory([UInt8])

    static func open(_ path: String) throws -> ChunkSource {
        guard FileManager.default.isReadableFile(atPath: path) else { throw ValidationError("cannot read \(path)") }
        return .file(path)
    }

    /// Calls `body` with consecutive chunks of at most `size` bytes; returns the total.
    func forEachChunk(size: Int, _ body: (UnsafeRawBufferPointer) -> Void) throws -> Int {
        switch self {
        case .memory(let bytes):
            bytes.withUnsafeBytes { all in
                var at = 0
                while at < all.count {
                    let n = min(size, all.count - at)
                    body(UnsafeRawBufferPointer(rebasing: all[at..<at + n]))
                    at += n
                }
            }
            return bytes.count
        case .file(let path):
            let fd = Foundation.open(path, O_RDONLY)
            guard fd >= 0 else { throw ValidationError("cannot open \(path)") }
            defer { close(fd) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            defer { buffer.deallocate() }
            var total = 0
            while true {
                let n = read(fd, buffer.baseAddress, size)
                if n < 0 { throw ValidationError("cannot read \(path)") }
                if n == 0 { break }
                total += n
                body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            return total
        }
    }
}

/// Wall-clock and CPU time of one run.
struct BenchTimer {
    let wall = ContinuousClock.now
    let cpu = BenchTimer.cpuSeconds()

    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func stop(name: String, bytes: Int, points: Int) -> BenchResult {
        let elapsed = ContinuousClock.now - wall
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return BenchResult(name: name, bytes: bytes, points: points, seconds: seconds,
                           cpuSeconds: Self.cpuSeconds() - cpu, peakRSSKiB: peakRSSKiB())
    }
}

/// Peak resident set size of this process (`VmHWM`), in KiB.
func peakRSSKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
    return 0
}

struct BenchResult {
    var name: String
    var bytes: Int
    var points: Int
    var seconds: Double
    var cpuSeconds: Double
    var peakRSSKiB: Int
    var extra: [String: String] = [:]

    var megabytesPerSecond: Double { Double(bytes) / 1e6 / seconds }
    var pointsPerSecond: Double { Double(points) / seconds }

    var text: String {
        let extras = extra.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        return "\(name): \(points) points, \(bytes) bytes in \(String(format: "%.3f", seconds)) s "
            + "(cpu \(String(format: "%.3f", cpuSeconds)) s): \(String(format: "%.1f", megabytesPerSecond)) MB/s, "
            + "\(String(format: "%.2f", pointsPerSecond / 1e6)) M points/s, peak RSS \(peakRSSKiB / 1024) MiB" + extras
    }

    var json: String {
        var fields = [
            "\"name\":\"\(name)\"", "\"bytes\":\(bytes)", "\"points\":\(points)", "\"seconds\":\(seconds)",
            "\"cpu_seconds\":\(cpuSeconds)", "\"mb_per_s\":\(megabytesPerSecond)",
            "\"points_per_s\":\(pointsPerSecond)", "\"peak_rss_kib\":\(peakRSSKiB)",
        ]
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { fields.append("\"\(k)\":\"\(v)\"") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func median(_ results: [BenchResult]) -> BenchResult {
        results.sorted { $0.seconds < $1.seconds }[results.count / 2]
    }
}
