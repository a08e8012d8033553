import ArgumentParser
import Foundation
import PluginHost
import TockModel
import UDFProtocol
import UDFWireCodec

/// `tock bench udf-codec`: points per second through the UDF codec and through swift-protobuf.
struct BenchUDFCodec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udf-codec",
        abstract: "Points/s through the UDF codec vs swift-protobuf: the host's side (Request{point} from a Point, Response{point} to a Point) and UDFKit's (Agent_Point from a Request, to a Response)."
    )

    @Option(help: "Points per run.")
    var points = 200_000

    @Option(help: "Runs per measurement; the median is reported.")
    var runs = 5

    @Option(help: "Only the cases whose name contains this text (for profiling).")
    var only: String?

    func validate() throws {
        guard runs > 0, points > 0 else { throw ValidationError("--runs and --points must be positive") }
    }

    func run() throws {
        let samples = Self.samplePoints(count: 1024)
        var frameBytes = 0
        var sample: [UInt8] = []
        UDFCodec.appendPointRequest(samples[0], to: &sample)
        frameBytes = sample.count
        print("UDF codec benchmark: \(points) points per run, median of \(runs) runs, one core")
        print("point: 3 tags, 3 double + 1 int fields, group + dimensions; Request{point} frame = \(frameBytes) bytes")
        print("case".padding(toLength: 52, withPad: " ", startingAt: 0) + "  per CPU-second  per point     per wall-second")

        // Pre-encoded Response{point} frames, as a UDF would send them back.
        var frames: [[UInt8]] = []
        for p in samples {
            var r = Agent_Response()
            r.point = UDFCodec.agentPoint(from: p)
            var out: [UInt8] = []
            try FrameEncoder.appendMessage(r, to: &out)
            frames.append(out)
        }

        var checksum = 0
        let n = points
        bench("encode Request{point}  Tock codec") {
            var out: [UInt8] = []
            out.reserveCapacity(1 << 20)
            for i in 0..<n {
                if out.count > (1 << 20) - 512 { checksum &+= out.count; out.removeAll(keepingCapacity: true) }
                UDFCodec.appendPointRequest(samples[i & 1023], to: &out)
            }
            checksum &+= out.count
        }
        bench("encode Request{point}  Tock codec, per connection") {
            var encoder = UDFRequestEncoder()
            var out: [UInt8] = []
            out.reserveCapacity(1 << 20)
            for i in 0..<n {
                if out.count > (1 << 20) - 512 { checksum &+= out.count; out.removeAll(keepingCapacity: true) }
                encoder.appendPointRequest(samples[i & 1023], to: &out)
            }
            checksum &+= out.count
        }
        try bench("encode Request{point}  swift-protobuf") {
            var out: [UInt8] = []
            out.reserveCapacity(1 << 20)
            for i in 0..<n {
                if out.count > (1 << 20) - 512 { checksum &+= out.count; out.removeAll(keepingCapacity: true) }
                var r = Agent_Request()
                r.point = UDFCodec.agentPoint(from: samples[i & 1023])
                try FrameEncoder.appendMessage(r, to: &out)
            }
            checksum &+= out.count
        }
        let stream = frames.flatMap { $0 }
        try bench("decode Response{point} Tock codec") {
            try decodeAll(stream, count: n) { frame in
                if case .point(let p) = try UDFCodec.decodeResponse(frame) { checksum &+= p.fields.count }
            }
        }
        try bench("decode Response{point} Tock codec, per connection") {
            var decoder = UDFResponseDecoder()
            try decodeAll(stream, count: n) { frame in
                if case .point(let p) = try frame.withUnsafeBytes({ try decoder.decode($0) }) { checksum &+= p.fields.count }
            }
        }
        try bench("decode Response{point} swift-protobuf (message only)") {
            try decodeAll(stream, count: n) { frame in
                let r = try Agent_Response(frame: frame)
                checksum &+= r.point.fieldsDouble.count
            }
        }
        try bench("decode Response{point} swift-protobuf + to model") {
            try decodeAll(stream, count: n) { frame in
                if case .point(let p) = UDFCodec.convert(try Agent_Response(frame: frame)) { checksum &+= p.fields.count }
            }
        }

        // UDFKit's side: Request{point} frames decoded into Agent_Point, Agent_Point encoded as Response{point}.
        var requestStream: [UInt8] = []
        for p in samples { UDFCodec.appendPointRequest(p, to: &requestStream) }
        let agentPoints = samples.map { UDFCodec.agentPoint(from: $0) }
        try bench("UDFKit decode Request{point} Tock codec") {
            try decodeAll(requestStream, count: n) { frame in
                let data = try frame.withUnsafeBytes { raw throws(WireFormatError) in try AgentCodec.decodeData(raw) }
                if case .point(let p)? = data { checksum &+= p.fieldsDouble.count }
            }
        }
        try bench("UDFKit decode Request{point} swift-protobuf") {
            try decodeAll(requestStream, count: n) { frame in
                checksum &+= try Agent_Request(frame: frame).point.fieldsDouble.count
            }
        }
        try bench("UDFKit encode Response{point} Tock codec") {
            var out: [UInt8] = []
            out.reserveCapacity(1 << 20)
            for i in 0..<n {
                if out.count > (1 << 20) - 512 { checksum &+= out.count; out.removeAll(keepingCapacity: true) }
                try AgentCodec.appendPoint(agentPoints[i & 1023], to: &out)
            }
            checksum &+= out.count
        }
        try bench("UDFKit encode Response{point} swift-protobuf") {
            var out: [UInt8] = []
            out.reserveCapacity(1 << 20)
            for i in 0..<n {
                if out.count > (1 << 20) - 512 { checksum &+= out.count; out.removeAll(keepingCapacity: true) }
                try FrameEncoder.appendWrapped(agentPoints[i & 1023], field: 17, to: &out)
            }
            checksum &+= out.count
        }
        if checksum == 42 { print("") } // keeps the work observable
    }

    /// Deframes `count` frames from `stream`, repeating it as needed, 64 KiB at a time like a pipe read.
    private func decodeAll(_ stream: [UInt8], count: Int, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var decoder = FrameDecoder()
        var done = 0
        var offset = 0
        while done < count {
            let end = min(offset + 65_536, stream.count)
            decoder.append(stream[offset..<end])
            offset = end == stream.count ? 0 : end
            while done < count, let frame = try decoder.nextFrame() {
                try body(frame)
                done += 1
            }
        }
    }

    /// Median points per second of CPU time of this thread (so other processes on a busy machine
    /// do not count), and of wall-clock time.
    private func measure(_ body: () throws -> Void) rethrows -> (cpu: Double, wall: Double) {
        var cpuRates: [Double] = [], wallRates: [Double] = []
        try body() // warm-up
        for _ in 0..<runs {
            let cpu0 = Self.threadCPUSeconds(), wall0 = Self.wallSeconds()
            try body()
            cpuRates.append(Double(points) / (Self.threadCPUSeconds() - cpu0))
            wallRates.append(Double(points) / (Self.wallSeconds() - wall0))
        }
        cpuRates.sort()
        wallRates.sort()
        return (cpuRates[runs / 2], wallRates[runs / 2])
    }

    private static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private static func wallSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private func bench(_ name: String, _ body: () throws -> Void) rethrows {
        if only.map({ name.contains($0) }) ?? true { report(name, try measure(body)) }
    }

    private func report(_ name: String, _ rate: (cpu: Double, wall: Double)) {
        let padded = name.padding(toLength: 52, withPad: " ", startingAt: 0)
        print("\(padded) \(String(format: "%10.0f", rate.cpu)) points/s \(String(format: "%6.0f", 1e9 / rate.cpu)) ns"
            + "  \(String(format: "%10.0f", rate.wall)) points/s")
    }

    static func samplePoints(count: Int) -> [Point] {
        (0..<count).map { i in
            // Interned, as the line-protocol parser does: the points of a series share their tag set.
            let tags = SeriesInterner.shared.intern(
                ["host": "printer-\(i % 16)", "region": "eu-west", "sensor": "thermo-\(i % 7)"])
            let dims = Dimensions(byName: false, tagNames: ["host"])
            return Point(
                name: "temperatures", tags: tags,
                fields: ["hotend": .double(220 + Double(i % 13) * 0.1), "bed": .double(90.5),
                         "air": .double(70.25 + Double(i)), "count": .int(Int64(i))],
                time: 1_451_606_400_000_000_000 + Int64(i) * 1_000_000_000,
                database: "printer", retentionPolicy: "autogen",
                group: GroupID(name: "temperatures", tags: tags, dimensions: dims), dimensions: dims)
        }
    }
}
