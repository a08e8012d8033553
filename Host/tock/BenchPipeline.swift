import ArgumentParser
import Engine
import Foundation
import LineProtocol
import TockModel

/// `tock bench pipeline`: line protocol parsed and run through a task, as the daemon's /write feeds it.
struct BenchPipeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Parse line protocol and run it through a TICKscript pipeline; print points/s and peak RSS.",
        discussion: "The parser runs on this thread and hands each chunk's points to the task (TaskRunner), whose "
            + "executor (a pool thread) runs the nodes; the leaf's output is counted and its first field summed. "
            + "Reports wall time and the process's CPU time (both threads).")

    static let defaultScript = "stream|from()|groupBy('host')|window().period(10s).every(10s)|mean('value')"

    @Option(help: "Line protocol file to parse (from `tock bench generate`).") var input: String?
    @Option(help: "Points to generate when there is no --input.") var points = 1_000_000
    @Option(help: "Series to generate when there is no --input.") var series = 1000
    @Option(help: "The TICKscript.") var script = BenchPipeline.defaultScript
    @Option(help: "Chunk size in bytes.") var chunk = 65_536
    @Option(help: "Timed runs.") var runs = 1
    @Flag(help: "Print one JSON object per run instead of text.") var json = false

    func run() throws {
        let source: ChunkSource = if let input { try ChunkSource.open(input) } else {
            .memory(Workload(points: points, series: series).bytes(0..<points))
        }
        var results: [BenchResult] = []
        for _ in 0..<runs {
            let sink = OutputTally()
            let handlers = TaskRunner.Handlers(output: { _, message in sink.add(message) })
            let runner = try TaskRunner(script: script, options: .init(taskID: "bench"), handlers: handlers)
            var parser = StreamingLineParser(LineProtocolParser(defaultTime: 0, database: "bench", retentionPolicy: "autogen"))
            var count = 0, errors = 0
            let timer = BenchTimer()
            try runner.start()
            let bytes = try source.forEachChunk(size: chunk) { buffer in
                var batch: [Point] = []
                batch.reserveCapacity(chunk / 40)
                errors += parser.feed(buffer, into: &batch).count
                count += batch.count
                runner.write(batch)
            }
            var last: [Point] = []
            errors += parser.finish(into: &last).count
            count += last.count
            runner.write(last)
            try runner.stop()
            var result = timer.stop(name: "pipeline", bytes: bytes, points: count)
            let (outputs, sum) = sink.totals
            result.extra = ["errors": "\(errors)", "outputs": "\(outputs)", "output_sum": "\(sum)"]
            results.append(result)
            print(json ? result.json : result.text)
        }
        if runs > 1, !json { print("median: " + BenchResult.median(results).text) }
    }
}

/// Counts what the task's leaf emits and sums the first field of each point, to check the work against other runs.
final class OutputTally: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var sum = 0.0

    func add(_ message: Message) {
        lock.lock()
        defer { lock.unlock() }
        switch message {
        case .point(let p):
            count += 1
            sum += p.fields.first?.value.numeric ?? 0
        case .batch(let b):
            for p in b.points {
                count += 1
                sum += p.fields.first?.value.numeric ?? 0
            }
        }
    }

    var totals: (Int, Double) {
        lock.lock()
        defer { lock.unlock() }
        return (count, sum)
    }
}
