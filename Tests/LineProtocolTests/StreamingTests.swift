import Testing
import LineProtocol
import TockModel

@Suite("Streaming line parser")
struct StreamingTests {
    /// Every construct that could be cut badly: escapes, a multi-line string, CRLF, a comment,
    /// a bad line, unicode, and a last line without line break.
    static let input = Array((
        "# header\n"
        + "cpu,host=a\\ b,dc=x usage=0.5,n=3i 1\r\n"
        + "cpu,host=a\\ b,dc=x usage=0.75,n=4i 2\n"
        + "\n"
        + "log msg=\"multi\nline \\\"quoted\\\" ✓\",ok=T 3\n"
        + "bad v= 4\n"
        + "mëtric,täg=välue v=5u 5\r\n"
        + "last v=-6e-1"
    ).utf8)

    static func whole() -> (points: [Point], errors: [LineProtocolError]) {
        var parser = LineProtocolParser(defaultTime: 99, database: "db", retentionPolicy: "rp")
        var points: [Point] = []
        let errors = parser.parse(input, into: &points)
        return (points, errors)
    }

    static func streamed(_ chunks: [ArraySlice<UInt8>], maxLineLength: Int = 1 << 20) -> (points: [Point], errors: [LineProtocolError]) {
        var stream = StreamingLineParser(LineProtocolParser(defaultTime: 99, database: "db", retentionPolicy: "rp"),
                                         maxLineLength: maxLineLength)
        var points: [Point] = []
        var errors: [LineProtocolError] = []
        for chunk in chunks { errors += stream.feed(Array(chunk), into: &points) }
        errors += stream.finish(into: &points)
        return (points, errors)
    }

    @Test("the whole input parses to the expected points and one error")
    func reference() {
        let (points, errors) = Self.whole()
        #expect(points.map(\.time) == [1, 2, 3, 5, 99])
        #expect(points[2].fields == ["msg": .string("multi\nline \"quoted\" ✓"), "ok": .bool(true)])
        #expect(errors.map(\.description) == [#"line 7, column 7: expected a field value after "v=", found a space"#])
    }

    @Test("cut in two at every byte boundary: same points, same errors")
    func everySplit() {
        let expected = Self.whole()
        let input = Self.input
        for cut in 0...input.count {
            let got = Self.streamed([input[..<cut], input[cut...]])
            #expect(got.points == expected.points, "cut at \(cut)")
            #expect(got.errors == expected.errors, "cut at \(cut)")
        }
    }

    @Test("cut in three at many pairs of boundaries: same result")
    func threeWaySplits() {
        let expected = Self.whole()
        let input = Self.input
        for a in stride(from: 0, through: input.count, by: 3) {
            for b in stride(from: a, through: input.count, by: 5) {
                let got = Self.streamed([input[..<a], input[a..<b], input[b...]])
                #expect(got.points == expected.points && got.errors == expected.errors, "cuts at \(a), \(b)")
            }
        }
    }

    @Test("one byte at a time: same result")
    func byteByByte() {
        let expected = Self.whole()
        let got = Self.streamed(Self.input.indices.map { Self.input[$0...$0] })
        #expect(got.points == expected.points)
        #expect(got.errors == expected.errors)
    }

    @Test("a line split across chunks is held back until its end arrives")
    func holdsPartialLine() {
        var stream = StreamingLineParser(LineProtocolParser(defaultTime: 0))
        var points: [Point] = []
        #expect(stream.feed(Array("m v=1 1\nm v=".utf8), into: &points).isEmpty)
        #expect(points.map(\.time) == [1])
        #expect(stream.bufferedByteCount == 4)
        #expect(stream.feed(Array("2 2\n".utf8), into: &points).isEmpty)
        #expect(points.map(\.time) == [1, 2])
        #expect(stream.bufferedByteCount == 0)
    }

    @Test("a line over the limit is reported and skipped, whole or in pieces; the lines around it are kept")
    func lineLengthLimit() {
        let text = Array("m v=1 1\nm v=1,long=\"\(String(repeating: "x", count: 40))\" 2\nm v=3 3\n".utf8)
        let inOne = Self.streamedText(text, chunk: text.count, limit: 32)
        let inBytes = Self.streamedText(text, chunk: 1, limit: 32)
        let inSevens = Self.streamedText(text, chunk: 7, limit: 32)
        #expect(inOne.points.map(\.time) == [1, 3])
        #expect(inOne.errors.map(\.description) == ["line 2, column 33: line is longer than the limit of 32 bytes"])
        #expect(inBytes.points == inOne.points && inBytes.errors.map(\.description) == inOne.errors.map(\.description))
        #expect(inSevens.points == inOne.points && inSevens.errors.map(\.description) == inOne.errors.map(\.description))
    }

    @Test("finish starts a new input: line numbers begin again at 1")
    func finishResets() {
        var stream = StreamingLineParser(LineProtocolParser(defaultTime: 0))
        var points: [Point] = []
        _ = stream.feed(Array("m v=1 1\nm v=\n".utf8), into: &points)
        _ = stream.finish(into: &points)
        let errors = stream.feed(Array("m v=\n".utf8), into: &points)
        #expect(errors.map(\.line) == [1])
    }

    static func streamedText(_ bytes: [UInt8], chunk: Int, limit: Int) -> (points: [Point], errors: [LineProtocolError]) {
        let chunks = stride(from: 0, to: bytes.count, by: chunk).map { bytes[$0..<min($0 + chunk, bytes.count)] }
        var stream = StreamingLineParser(LineProtocolParser(defaultTime: 0), maxLineLength: limit)
        var points: [Point] = []
        var errors: [LineProtocolError] = []
        for c in chunks { errors += stream.feed(Array(c), into: &points) }
        errors += stream.finish(into: &points)
        return (points, errors)
    }
}
