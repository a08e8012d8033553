import LineProtocol
import TockModel

/// Parses `text` with a fresh parser (database "db", retention policy "rp").
func parse(_ text: String, precision: Precision = .nanoseconds,
           defaultTime: Int64 = 1_000_000_000_000) -> (points: [Point], errors: [LineProtocolError]) {
    var parser = LineProtocolParser(precision: precision, defaultTime: defaultTime, database: "db", retentionPolicy: "rp")
    var points: [Point] = []
    let errors = parser.parse(text, into: &points)
    return (points, errors)
}

func parse(bytes: [UInt8]) -> (points: [Point], errors: [LineProtocolError]) {
    var parser = LineProtocolParser(defaultTime: 0, database: "db", retentionPolicy: "rp")
    var points: [Point] = []
    let errors = parser.parse(bytes, into: &points)
    return (points, errors)
}

func point(_ name: String, _ tags: Tags = Tags(), _ fields: Fields, _ time: Int64) -> Point {
    Point(name: name, tags: tags, fields: fields, time: time, database: "db", retentionPolicy: "rp")
}

/// A small deterministic generator (SplitMix64), so property tests repeat exactly.
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
