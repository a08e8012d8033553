import Testing
import LineProtocol
import TockModel

@Suite("Line protocol round trip")
struct RoundTripTests {
    /// Characters that line protocol treats specially, plus multi-byte ones.
    static let nasty: [Character] = [",", "=", " ", "\\", "\"", "#", "\t", "\r", "é", "😀", "'", "a", "b", "Z", "0", "-", "."]

    static func name(_ g: inout SeededGenerator, avoidLeading: Set<Character> = []) -> String {
        let length = Int.random(in: 1...8, using: &g)
        var s = ""
        while s.count < length {
            let c = nasty.randomElement(using: &g)!
            if s.isEmpty && avoidLeading.contains(c) { continue }
            s.append(c)
        }
        return s
    }

    static func value(_ g: inout SeededGenerator) -> FieldValue {
        switch Int.random(in: 0..<5, using: &g) {
        case 0:
            var d: Double
            repeat {
                d = Int.random(in: 0..<3, using: &g) == 0
                    ? Double(bitPattern: g.next())
                    : Double(Int.random(in: -1_000_000...1_000_000, using: &g)) / 1000
            } while !d.isFinite
            return .double(d)
        case 1: return .int(Int64(bitPattern: g.next()))
        case 2: return .uint(g.next())
        case 3:
            var s = name(&g) + (Bool.random(using: &g) ? "\nnext line\r\n" : "")
            if Bool.random(using: &g) { s = "" }
            return .string(s)
        default: return .bool(Bool.random(using: &g))
        }
    }

    /// `s` changed into what line protocol can carry (InfluxDB 1.x cannot read a backslash at the end of a name or
    /// key, nor, in a field key, an odd run of backslashes before a comma, space or `=`).
    static func expressible(_ s: String, fieldKey: Bool = false) -> String {
        var out = ""
        var run = 0
        for c in s {
            if c == "\\" {
                run += 1
            } else {
                if fieldKey && run % 2 == 1 && (c == "," || c == " " || c == "=") { out.append("\\") }
                run = 0
            }
            out.append(c)
        }
        return run > 0 ? out + "a" : out
    }

    static func randomPoint(_ g: inout SeededGenerator) -> Point {
        var tags = Tags()
        for _ in 0..<Int.random(in: 0...3, using: &g) { tags[expressible(name(&g))] = expressible(name(&g)) }
        var fields = Fields()
        for _ in 0..<Int.random(in: 1...4, using: &g) { fields[expressible(name(&g), fieldKey: true)] = value(&g) }
        let time = Int64.random(in: minTime...maxTime, using: &g)
        return Point(name: expressible(name(&g, avoidLeading: ["#", "\t"])), tags: tags, fields: fields, time: time,
                     database: "db", retentionPolicy: "rp")
    }

    static let minTime = Int64.min + 2
    static let maxTime = Int64.max - 1

    @Test("random points with nasty characters: serialize, parse, get the same points", arguments: [1, 2, 3, 42, 2026] as [UInt64])
    func roundTrip(seed: UInt64) throws {
        var g = SeededGenerator(seed: seed)
        let points = (0..<1000).map { _ in Self.randomPoint(&g) }
        let bytes = try LineProtocolSerializer().serialize(points)
        var parser = LineProtocolParser(defaultTime: 0, database: "db", retentionPolicy: "rp")
        var parsed: [Point] = []
        let errors = parser.parse(bytes, into: &parsed)
        #expect(errors.isEmpty)
        #expect(parsed.count == points.count)
        for (a, b) in zip(parsed, points) where a != b {
            Issue.record("\(try LineProtocolSerializer().line(b)) read back as \(a)")
        }
    }

    @Test("the same bytes streamed in random chunk sizes give the same points")
    func roundTripStreamed() throws {
        var g = SeededGenerator(seed: 7)
        let points = (0..<500).map { _ in Self.randomPoint(&g) }
        let bytes = try LineProtocolSerializer().serialize(points)
        var stream = StreamingLineParser(LineProtocolParser(defaultTime: 0, database: "db", retentionPolicy: "rp"))
        var parsed: [Point] = []
        var errors: [LineProtocolError] = []
        var at = 0
        while at < bytes.count {
            let n = min(Int.random(in: 1...64, using: &g), bytes.count - at)
            errors += stream.feed(Array(bytes[at..<at + n]), into: &parsed)
            at += n
        }
        errors += stream.finish(into: &parsed)
        #expect(errors.isEmpty)
        #expect(parsed == points)
    }

    @Test("in second precision, whole seconds read back exactly")
    func roundTripSeconds() throws {
        var g = SeededGenerator(seed: 11)
        let points = (0..<200).map { _ -> Point in
            var p = Self.randomPoint(&g)
            p.time = Int64.random(in: -9_000_000_000...9_000_000_000, using: &g) * 1_000_000_000
            return p
        }
        let bytes = try LineProtocolSerializer(precision: .seconds).serialize(points)
        var parser = LineProtocolParser(precision: .seconds, defaultTime: 0, database: "db", retentionPolicy: "rp")
        var parsed: [Point] = []
        #expect(parser.parse(bytes, into: &parsed).isEmpty)
        #expect(parsed == points)
    }
}
