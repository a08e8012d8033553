import FuzzSupport
import LineProtocol
import TockModel

/// The properties the line-protocol fuzz target checks on any bytes a client could send to `/write`.
///
/// 1. ``LineProtocolParser`` returns (points and errors) for any input: no trap, no hang.
/// 2. ``StreamingLineParser`` gives the same points and the same errors however the input is cut into
///    chunks (its documented promise); the cuts are taken from the input itself, so the fuzzer steers them.
/// 3. Every point the parser accepts can be written back with ``LineProtocolSerializer``, and parsing
///    that text gives the same points: nothing a client sends is stored differently from what it meant.
public enum LineProtocolFuzzing {
    /// The point time used for lines without a timestamp; any fixed value works.
    static let defaultTime: Timestamp = 1_700_000_000_000_000_000

    public static func check(_ input: UnsafeRawBufferPointer) throws(PropertyViolation) {
        var whole = LineProtocolParser(precision: .nanoseconds, defaultTime: defaultTime,
                                       database: "db", retentionPolicy: "rp")
        var points: [Point] = []
        let errors = whole.parse(input, into: &points)

        for cuts in chunkings(input) {
            var stream = StreamingLineParser(whole)
            var streamed: [Point] = []
            var streamErrors: [LineProtocolError] = []
            var start = 0
            for end in cuts + [input.count] where end >= start {
                streamErrors += stream.feed(UnsafeRawBufferPointer(rebasing: input[start..<end]), into: &streamed)
                start = end
            }
            streamErrors += stream.finish(into: &streamed)
            try require(same(streamed, points),
                        "streaming parser cut at \(cuts) gave other points:\n\(streamed)\nwhole input gave:\n\(points)")
            try require(streamErrors == errors,
                        "streaming parser cut at \(cuts) gave other errors:\n\(streamErrors)\nwhole input gave:\n\(errors)")
        }

        let serializer = LineProtocolSerializer(precision: .nanoseconds)
        let text: [UInt8]
        do {
            text = try serializer.serialize(points)
        } catch {
            throw PropertyViolation("parsed point cannot be written back: \(error)\npoints: \(points)")
        }
        var again = LineProtocolParser(precision: .nanoseconds, defaultTime: 0, database: "db", retentionPolicy: "rp")
        var reparsed: [Point] = []
        let reparseErrors = again.parse(text, into: &reparsed)
        try require(reparseErrors.isEmpty,
                    "serialized points do not parse: \(reparseErrors)\ntext: \(String(decoding: text, as: UTF8.self))")
        try require(same(reparsed, points),
                    "serialize → parse changed the points:\nbefore: \(points)\nafter:  \(reparsed)\ntext: \(String(decoding: text, as: UTF8.self))")
    }

    /// Three ways to cut the input: every byte apart (short inputs only: a line fed byte by byte costs
    /// quadratic time), at a stride the first byte picks, and in two at a place the last byte picks.
    static func chunkings(_ input: UnsafeRawBufferPointer) -> [[Int]] {
        guard let first = input.first, let last = input.last else { return [] }
        let stride = Int(first % 13) + 2
        var cuts = [
            Array(Swift.stride(from: stride, to: input.count, by: stride)),
            [input.count * Int(last) / 256],
        ]
        if input.count <= 512 { cuts.append(Array(1..<input.count)) }
        return cuts
    }

    /// Equal points, where a NaN field equals a NaN field (the parser should not produce one, but if it
    /// does the properties compare what was parsed, not IEEE equality).
    static func same(_ a: [Point], _ b: [Point]) -> Bool {
        a == b || String(reflecting: a) == String(reflecting: b)
    }
}
