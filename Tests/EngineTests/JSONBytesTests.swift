import Testing
import TockModel
@testable import Engine

/// The byte-buffer JSON writers agree with the string writers they replace on the hot path.
@Suite("JSON written into byte buffers")
struct JSONBytesTests {
    private func bytes(_ write: (inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = [0x21]  // something already in the buffer, kept in front
        write(&out)
        #expect(out.first == 0x21)
        return String(decoding: out.dropFirst(), as: UTF8.self)
    }

    @Test("floats spell as GoJSON.float, fast path and exponent forms alike")
    func floats() {
        var values: [Double] = [
            0, -0.0, 1, -1, 90, 0.5, -2.25, 1e21, 1e-7, 1e-6, 9.99e-7, 123456.789, 1e20, 0.000001, 1e16, 1e15,
            9_007_199_254_740_993, 0.1 + 0.2, 1e-5, 0.0001, 5e-324, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            .nan, .infinity, -.infinity, 4.25, 100, 1234567890123456789, 0.30000000000000004,
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            values.append(Double(bitPattern: generator.next()))
            values.append(Double(Int64.random(in: -1_000_000_000...1_000_000_000)) / [1, 10, 100, 1000, 1e7].randomElement()!)
        }
        for v in values {
            #expect(bytes { GoJSON.appendFloat(v, to: &$0) } == GoJSON.float(v), "\(v)")
        }
        #expect(bytes { GoJSON.appendFloat(90, to: &$0) } == "90")
        #expect(bytes { GoJSON.appendFloat(-0.0, to: &$0) } == "0")
        #expect(bytes { GoJSON.appendFloat(.nan, to: &$0) } == "null")
    }

    @Test("integers in decimal, both ends of the range")
    func integers() {
        for v: Int64 in [0, 7, 9, 10, -1, -10, 1_614_834_367_000_000_000, .max, .min] {
            #expect(bytes { GoJSON.appendInt(v, to: &$0) } == String(v))
        }
        for v: UInt64 in [0, 10, 99, 100, .max] {
            #expect(bytes { GoJSON.appendUInt(v, to: &$0) } == String(v))
        }
    }

    @Test("strings escape as GoJSON.string escapes them", arguments: [
        "", "plain", "a\"b\\c\n<&>", "tab\there\r", "\u{1}\u{1f}\u{7f}", "line\u{2028}sep\u{2029}",
        "€ and \u{2027} and \u{2030} and ✓", "\u{E2}", "日本語 \"quoted\"", "ends with <", "\u{0}",
        String(repeating: "long plain text ", count: 40) + "&",
    ])
    func strings(_ s: String) {
        #expect(bytes { GoJSON.appendString(s, to: &$0) } == GoJSON.string(s))
        // A string that is not contiguous UTF-8 (bridged or lazily built) takes the copying path.
        let sub = Substring(s)
        #expect(bytes { GoJSON.appendString(String(sub), to: &$0) } == GoJSON.string(s))
    }

    @Test("U+2028 and U+2029 are escaped, other E2 sequences are not")
    func lineSeparators() {
        #expect(bytes { GoJSON.appendString("a\u{2028}b\u{2029}", to: &$0) } == #""a\u2028b\u2029""#)
        #expect(bytes { GoJSON.appendString("\u{2027}€", to: &$0) } == "\"\u{2027}€\"")
    }

    @Test("times as RFC3339Nano.format writes them")
    func times() {
        var times: [Timestamp] = [0, -1, 1, 500_000_000, -GoDuration.second, 1_614_834_367_000_000_123, .max, .min,
                                  31_536_000 * GoDuration.second + 500 * GoDuration.millisecond]
        for _ in 0..<2000 { times.append(Int64.random(in: .min ... .max)) }
        for t in times {
            #expect(bytes { RFC3339Nano.append(t, to: &$0) } == RFC3339Nano.format(t), "\(t)")
        }
        #expect(bytes { GoJSON.appendTime(0, to: &$0) } == "\"1970-01-01T00:00:00Z\"")
    }

    private static let t0: Timestamp = 1_614_834_367 * GoDuration.second

    static let messages: [Message] = [
        .point(Point(name: "cpu", tags: ["host": "a<b>"], fields: ["value": .double(81.5)], time: t0)),
        .point(Point(name: "", fields: ["b": .int(-3), "a": .string("x\"y"), "c": .bool(true), "d": .uint(9)], time: t0 + 5)),
        .point(Point(name: "m", fields: ["v": .double(.nan)], time: -1)),
        .batch(Batch(name: "cpu", tags: ["host": "a"], tmax: t0, points: [])),
        .batch(Batch(name: "", tmax: t0, points: [])),
        .batch(Batch(name: "cpu", tags: ["host": "a"], tmax: t0, points: [
            BatchPoint(time: t0, fields: ["mean": .double(2.5)], tags: ["host": "a"]),
            BatchPoint(time: t0 + 1, fields: ["mean": .double(1e-9)], tags: ["host": "a"]),
        ])),
        // Tag columns (tags of the first point outside the group), and points that lack a column.
        .batch(Batch(name: "cpu", tags: ["host": "a"], tmax: t0, points: [
            BatchPoint(time: t0, fields: ["value": .double(1), "z": .int(2)], tags: ["host": "a", "cpu": "cpu0", "value": "shadowed"]),
            BatchPoint(time: t0 + 1, fields: ["value": .double(2)], tags: ["host": "a"]),
            BatchPoint(time: t0 + 2, fields: ["other": .double(3)], tags: ["cpu": "cpu1"]),
        ])),
        // Later points with other fields than the first: cells by column name, null when missing.
        .batch(Batch(name: "x", tmax: t0, points: [
            BatchPoint(time: t0, fields: ["a": .int(1), "b": .int(2)]),
            BatchPoint(time: t0 + 1, fields: ["b": .int(3)]),
            BatchPoint(time: t0 + 2, fields: ["a": .int(4), "b": .int(5), "c": .int(6)]),
        ])),
    ]

    @Test("a message encoded directly is the row SeriesRow builds", arguments: messages)
    func directRows(_ message: Message) {
        let direct = bytes { Series.appendJSON(message, to: &$0) }
        #expect(direct == SeriesRow(message).json)
        #expect(Series.json(message) == direct)
        #expect(Series.result([message]) == "{\"series\":[\(direct)]}")
    }

    @Test("the rows spelled out")
    func goldenRows() {
        #expect(Series.json(Self.messages[0]) == #"{"name":"cpu","tags":{"host":"a\u003cb\u003e"},"columns":["time","value"],"values":[["2021-03-04T05:06:07Z",81.5]]}"#)
        #expect(Series.json(Self.messages[1]) == #"{"columns":["time","a","b","c","d"],"values":[["2021-03-04T05:06:07.000000005Z","x\"y",-3,true,9]]}"#)
        #expect(Series.json(Self.messages[4]) == "{}")
        #expect(Series.json(Self.messages[6]) == #"{"name":"cpu","tags":{"host":"a"},"columns":["time","cpu","value","z"],"values":[["2021-03-04T05:06:07Z","cpu0",1,2],["2021-03-04T05:06:07.000000001Z",null,2,null],["2021-03-04T05:06:07.000000002Z","cpu1",null,null]]}"#)
        #expect(Series.result([Message]()) == #"{"series":null}"#)
        #expect(Series.array([]) == "null")
    }

    @Test("an alert event's bytes are its JSON, and its line adds a newline")
    func alertEvent() {
        let event = AlertEvent(id: "cpu:a", message: "high <cpu>", details: "", time: Self.t0, duration: 1_000_000_000,
                               level: .critical, previousLevel: .ok, recoverable: true, data: Self.messages[0])
        let json = event.json
        #expect(json == #"{"id":"cpu:a","message":"high \u003ccpu\u003e","details":"","time":"2021-03-04T05:06:07Z","duration":1000000000,"level":"CRITICAL","data":{"series":[{"name":"cpu","tags":{"host":"a\u003cb\u003e"},"columns":["time","value"],"values":[["2021-03-04T05:06:07Z",81.5]]}]},"previousLevel":"OK","recoverable":true}"#)
        #expect(event.jsonBytes == Array(json.utf8))
        #expect(event.jsonLine == Array((json + "\n").utf8))
    }
}
