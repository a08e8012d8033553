import Foundation
import PluginHost
import Testing
import TockModel
import UDFProtocol

/// SplitMix64: a small seeded generator so every failure can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum RandomModel {
    static let alphabet: [String] = ["a", "b", "host", "region", "z", "é", "日本", "🙂", " ", "=", ",", "\n", "\u{0}"]

    static func string(_ g: inout SeededGenerator, allowEmpty: Bool = true) -> String {
        let n = Int.random(in: allowEmpty ? 0...6 : 1...6, using: &g)
        var s = (0..<n).map { _ in alphabet.randomElement(using: &g)! }.joined()
        // Sometimes long enough to need a two-byte length.
        if Int.random(in: 0..<10, using: &g) == 0 { s += String(repeating: "x", count: 130) }
        return s
    }

    static func tags(_ g: inout SeededGenerator) -> Tags {
        Tags((0..<Int.random(in: 0...5, using: &g)).map { _ in (string(&g), string(&g)) })
    }

    static func value(_ g: inout SeededGenerator, unsigned: Bool) -> FieldValue {
        switch Int.random(in: 0..<(unsigned ? 5 : 4), using: &g) {
        case 0:
            let specials: [Double] = [0, -0.0, 1.5, -3e300, .infinity, -.infinity, .leastNonzeroMagnitude]
            return .double(Bool.random(using: &g) ? specials.randomElement(using: &g)!
                : Double.random(in: -1e9...1e9, using: &g))
        case 1:
            let specials: [Int64] = [0, -1, 1, .min, .max, 127, 128]
            return .int(Bool.random(using: &g) ? specials.randomElement(using: &g)! : Int64.random(in: .min ... .max, using: &g))
        case 2: return .string(string(&g))
        case 3: return .bool(Bool.random(using: &g))
        default: return .uint(Bool.random(using: &g) ? UInt64.max : UInt64.random(in: 0...1000, using: &g))
        }
    }

    static func fields(_ g: inout SeededGenerator, unsigned: Bool = false) -> Fields {
        Fields((0..<Int.random(in: 0...6, using: &g)).map { _ in (string(&g), value(&g, unsigned: unsigned)) })
    }

    static func time(_ g: inout SeededGenerator) -> Int64 {
        [0, -1, 1_451_606_400_000_000_000, Int64.random(in: .min ... .max, using: &g)].randomElement(using: &g)!
    }

    /// A point whose group is what Kapacitor computes from its dimensions and tags.
    static func point(_ g: inout SeededGenerator, unsigned: Bool = false) -> Point {
        let tags = tags(&g)
        let names = tags.sortedKeys.filter { _ in Bool.random(using: &g) }
        let dims = Dimensions(byName: Bool.random(using: &g), tagNames: names)
        let name = string(&g)
        let grouped = !names.isEmpty || dims.byName
        return Point(name: name, tags: tags, fields: fields(&g, unsigned: unsigned), time: time(&g),
                     database: string(&g), retentionPolicy: string(&g),
                     group: grouped ? GroupID(name: name, tags: tags, dimensions: dims) : .none, dimensions: dims)
    }
}

/// The messages Kapacitor's host would build, written the obvious way with swift-protobuf.
enum Reference {
    static func typedMaps(_ fields: Fields, into p: inout Agent_Point) {
        for (k, v) in fields {
            switch v {
            case .double(let d): p.fieldsDouble[k] = d
            case .int(let i): p.fieldsInt[k] = i
            case .uint(let u): if u <= UInt64(Int64.max) { p.fieldsInt[k] = Int64(u) } else { p.fieldsDouble[k] = Double(u) }
            case .string(let s): p.fieldsString[k] = s
            case .bool(let b): p.fieldsBool[k] = b
            }
        }
    }

    static func point(_ point: Point) -> Agent_Point {
        var p = Agent_Point()
        p.time = point.time
        p.name = point.name
        p.database = point.database
        p.retentionPolicy = point.retentionPolicy
        p.group = point.group.rawValue
        p.dimensions = point.dimensions.tagNames
        p.byName = point.dimensions.byName
        p.tags = point.tags.dictionary
        typedMaps(point.fields, into: &p)
        return p
    }

    static func batchPoint(_ point: BatchPoint, group: GroupID) -> Agent_Point {
        var p = Agent_Point()
        p.time = point.time
        p.group = group.rawValue
        p.tags = point.tags.dictionary
        typedMaps(point.fields, into: &p)
        return p
    }
}

/// Doubles compare by bit pattern so that NaN and -0.0 round trips are checked exactly.
func sameBits(_ a: Agent_Point, _ b: Agent_Point) -> Bool {
    var a = a, b = b
    let ad = a.fieldsDouble.mapValues(\.bitPattern), bd = b.fieldsDouble.mapValues(\.bitPattern)
    a.fieldsDouble = [:]
    b.fieldsDouble = [:]
    return a == b && ad == bd
}

@Suite("UDF codec agrees with swift-protobuf")
struct CodecPropertyTests {
    @Test("Request{point} from the codec decodes with swift-protobuf to Kapacitor's message", arguments: 0..<4)
    func encodePoints(seed: UInt64) throws {
        var g = SeededGenerator(seed: seed)
        for _ in 0..<250 {
            let point = RandomModel.point(&g, unsigned: true)
            var bytes: [UInt8] = []
            UDFCodec.appendPointRequest(point, to: &bytes, framed: false)
            let request = try Agent_Request(serializedBytes: bytes)
            guard case .point(let decoded)? = request.message else {
                Issue.record("not a point request: \(request)")
                return
            }
            #expect(sameBits(decoded, Reference.point(point)), "\(point)")
            // The codec's size computation matches swift-protobuf's for the same message.
            #expect(bytes.count == (try request.serializedBytes() as [UInt8]).count)
        }
    }

    @Test("a framed Request{point} is the unframed bytes behind their length")
    func framed() throws {
        var g = SeededGenerator(seed: 99)
        let point = RandomModel.point(&g)
        var framed: [UInt8] = [], body: [UInt8] = []
        UDFCodec.appendPointRequest(point, to: &framed)
        UDFCodec.appendPointRequest(point, to: &body, framed: false)
        var decoder = FrameDecoder()
        decoder.append(framed)
        #expect(try decoder.nextFrame().map(Array.init) == body)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("Response{point} from swift-protobuf decodes with the codec to the original point", arguments: 0..<4)
    func decodePoints(seed: UInt64) throws {
        var g = SeededGenerator(seed: 1000 + seed)
        for _ in 0..<250 {
            let point = RandomModel.point(&g)
            var response = Agent_Response()
            response.point = Reference.point(point)
            let bytes: [UInt8] = try response.serializedBytes()
            #expect(try UDFCodec.decodeResponse(bytes[...]) == .point(point), "\(point)")
        }
    }

    @Test("batch requests decode with swift-protobuf to what Kapacitor sends", arguments: 0..<2)
    func encodeBatches(seed: UInt64) throws {
        var g = SeededGenerator(seed: 2000 + seed)
        for _ in 0..<50 {
            let tags = RandomModel.tags(&g)
            let dims = Dimensions(byName: Bool.random(using: &g), tagNames: tags.sortedKeys)
            let name = RandomModel.string(&g)
            let points = (0..<Int.random(in: 0...4, using: &g)).map { _ in
                BatchPoint(time: RandomModel.time(&g), fields: RandomModel.fields(&g), tags: RandomModel.tags(&g))
            }
            let batch = Batch(name: name, group: GroupID(name: name, tags: tags, dimensions: dims), tags: tags,
                              dimensions: dims, tmax: RandomModel.time(&g), points: points)
            var bytes: [UInt8] = []
            UDFCodec.appendBatchRequests(batch, to: &bytes)

            var decoder = FrameDecoder()
            decoder.append(bytes)
            var requests: [Agent_Request] = []
            while let frame = try decoder.nextFrame() { requests.append(try Agent_Request(frame: frame)) }
            try #require(requests.count == points.count + 2)

            var begin = Agent_BeginBatch()
            begin.name = name
            begin.group = batch.group.rawValue
            begin.tags = tags.dictionary
            begin.size = Int64(points.count)
            begin.byName = dims.byName
            #expect(requests.first?.begin == begin)
            for (i, p) in points.enumerated() {
                #expect(sameBits(requests[i + 1].point, Reference.batchPoint(p, group: batch.group)))
            }
            var end = Agent_EndBatch()
            end.name = name
            end.group = batch.group.rawValue
            end.tmax = batch.tmax
            end.tags = tags.dictionary
            #expect(requests.last?.end == end)
        }
    }

    @Test("Response{begin} and Response{end} decode to the model", arguments: 0..<2)
    func decodeBatchMarkers(seed: UInt64) throws {
        var g = SeededGenerator(seed: 3000 + seed)
        for _ in 0..<100 {
            var begin = Agent_BeginBatch()
            begin.name = RandomModel.string(&g)
            begin.group = RandomModel.string(&g)
            begin.tags = RandomModel.tags(&g).dictionary
            begin.size = Int64.random(in: -1...1000, using: &g)
            begin.byName = Bool.random(using: &g)
            var r1 = Agent_Response()
            r1.begin = begin
            let b1: [UInt8] = try r1.serializedBytes()
            #expect(try UDFCodec.decodeResponse(b1[...]) == .begin(UDFBeginBatch(
                name: begin.name, group: GroupID(begin.group), tags: Tags(begin.tags), size: begin.size,
                byName: begin.byName)))

            var end = Agent_EndBatch()
            end.name = RandomModel.string(&g)
            end.group = RandomModel.string(&g)
            end.tmax = RandomModel.time(&g)
            end.tags = RandomModel.tags(&g).dictionary
            end.byName = Bool.random(using: &g)
            var r2 = Agent_Response()
            r2.end = end
            let b2: [UInt8] = try r2.serializedBytes()
            #expect(try UDFCodec.decodeResponse(b2[...]) == .end(UDFEndBatch(
                name: end.name, group: GroupID(end.group), tmax: end.tmax, tags: Tags(end.tags), byName: end.byName)))
        }
    }
}
