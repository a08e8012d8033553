import Testing
import LineProtocol
import TockModel

@Suite("Line protocol parser: valid input")
struct ParserTests {
    @Test("a full line becomes a point with sorted tags, sorted fields and the caller's database")
    func fullLine() {
        let (points, errors) = parse("cpu,region=west,host=a usage=0.5,idle=99i 1465839830100400200\n")
        #expect(errors.isEmpty)
        #expect(points == [point("cpu", ["host": "a", "region": "west"], ["idle": .int(99), "usage": .double(0.5)],
                                 1_465_839_830_100_400_200)])
        #expect(points[0].tags.sortedKeys == ["host", "region"])
        #expect(points[0].fields.sortedKeys == ["idle", "usage"])
        #expect(points[0].database == "db" && points[0].retentionPolicy == "rp")
    }

    @Test("every field type")
    func fieldTypes() {
        let (points, errors) = parse(#"m f=1,g=1.5,h=-1e3,i=1i,j=-5i,u=18446744073709551615u,s="hi there",b=t 1"#)
        #expect(errors.isEmpty)
        #expect(points.first?.fields == [
            "f": .double(1), "g": .double(1.5), "h": .double(-1000), "i": .int(1), "j": .int(-5),
            "u": .uint(UInt64.max), "s": .string("hi there"), "b": .bool(true),
        ])
    }

    @Test("floats in every form InfluxDB accepts, read exactly",
          arguments: [
            ("1", 1.0), (".5", 0.5), ("1.", 1.0), ("-0.5", -0.5), ("1E5", 1e5), ("1e+2", 100), ("2.5e-3", 0.0025),
            ("0.1", 0.1), ("123456.789", 123456.789), ("9007199254740993", 9007199254740992),
            ("123456789012345678901234", 1.2345678901234568e23), ("1.7976931348623157e308", 1.7976931348623157e308),
            ("5e-324", Double.leastNonzeroMagnitude), ("0.000001", 1e-6), ("-0", -0.0),
          ])
    func floats(text: String, value: Double) {
        let (points, errors) = parse("m v=\(text) 1")
        #expect(errors.isEmpty)
        #expect(points.first?.fields["v"] == .double(value))
    }

    @Test("integers at the limits", arguments: [
        ("9223372036854775807i", FieldValue.int(.max)), ("-9223372036854775808i", .int(.min)), ("0i", .int(0)),
        ("0u", .uint(0)), ("18446744073709551615u", .uint(.max)),
    ])
    func integerLimits(text: String, value: FieldValue) {
        let (points, errors) = parse("m v=\(text) 1")
        #expect(errors.isEmpty)
        #expect(points.first?.fields["v"] == value)
    }

    @Test("booleans in every spelling InfluxDB accepts", arguments: [
        ("t", true), ("T", true), ("true", true), ("True", true), ("TRUE", true),
        ("f", false), ("F", false), ("false", false), ("False", false), ("FALSE", false),
    ])
    func booleans(text: String, value: Bool) {
        let (points, errors) = parse("m v=\(text) 1")
        #expect(errors.isEmpty)
        #expect(points.first?.fields["v"] == .bool(value))
    }

    @Test("a measurement ends at an unescaped comma or space; InfluxDB drops the backslash before , space = and \"")
    func measurementEscapes() {
        let (points, errors) = parse(#"my\ meas\,ure=x\=y\"z\q v=1 1"#)
        #expect(errors.isEmpty)
        #expect(points.first?.name == #"my meas,ure=x=y"z\q"#)
    }

    @Test("tag keys, tag values and field keys escape comma, space and equals sign")
    func keyEscapes() {
        let (points, errors) = parse(#"m,ta\ g\=k\,ey=v\ a\,l\=ue f\ i\,e\=ld=1 1"#)
        #expect(errors.isEmpty)
        #expect(points.first?.tags == ["ta g=k,ey": "v a,l=ue"])
        #expect(points.first?.fields == ["f i,e=ld": .double(1)])
    }

    @Test("a double backslash is two backslashes, and the byte after it is still escaped (InfluxDB 1.x)")
    func backslashes() {
        let (points, errors) = parse(#"m\\x,path=C:\temp\\new,k=a\b,sp=a\\ b v=1 1"#)
        #expect(errors.isEmpty)
        #expect(points.first?.name == #"m\\x"#)
        #expect(points.first?.tags == ["path": #"C:\temp\\new"#, "k": #"a\b"#, "sp": #"a\ b"#])
        // The space after C:\\ is escaped, so the tag value runs on into "v=1" and meets an "=".
        let (refused, errors2) = parse(#"m,t=C:\\ v=1 1"#)
        #expect(refused.isEmpty)
        #expect(errors2.count == 1)
    }

    @Test("string fields unescape \\\" and \\\\ and keep everything else, line breaks included")
    func strings() {
        let (points, errors) = parse("m s=\"say \\\"hi\\\", a=b \\\\ c \\n\",t=\"two\nlines\" 7\nm v=1 8\n")
        #expect(errors.isEmpty)
        #expect(points.count == 2)
        #expect(points.first?.fields == ["s": .string(#"say "hi", a=b \ c \n"#), "t": .string("two\nlines")])
        #expect(points.last?.time == 8)
    }

    @Test("unicode names and values")
    func unicode() {
        let (points, errors) = parse("température,lieu=salle\\ 😀 valeur=21.5,note=\"très bien\" 1")
        #expect(errors.isEmpty)
        #expect(points.first == point("température", ["lieu": "salle 😀"], ["valeur": .double(21.5), "note": .string("très bien")], 1))
    }

    @Test("timestamps are scaled by the precision", arguments: [
        (Precision.nanoseconds, Int64(5)), (.microseconds, 5_000), (.milliseconds, 5_000_000),
        (.seconds, 5_000_000_000), (.minutes, 300_000_000_000), (.hours, 18_000_000_000_000),
    ])
    func precision(precision: Precision, nanoseconds: Int64) {
        let (points, errors) = parse("m v=1 5", precision: precision)
        #expect(errors.isEmpty)
        #expect(points.first?.time == nanoseconds)
    }

    @Test("a line without timestamp gets the arrival time, rounded down to the precision")
    func defaultTime() {
        #expect(parse("m v=1", defaultTime: 1_700_000_123_456_789_012).points.first?.time == 1_700_000_123_456_789_012)
        #expect(parse("m v=1", precision: .seconds, defaultTime: 1_700_000_123_456_789_012).points.first?.time == 1_700_000_123_000_000_000)
        #expect(parse("m v=1  \n", precision: .milliseconds, defaultTime: 1_700_000_123_456_789_012).points.first?.time == 1_700_000_123_456_000_000)
    }

    @Test("negative timestamps and the limits of InfluxDB's time range")
    func timeRange() {
        #expect(parse("m v=1 -1000").points.first?.time == -1000)
        #expect(parse("m v=1 9223372036854775806").points.first?.time == Int64.max - 1)
        #expect(parse("m v=1 -9223372036854775806").points.first?.time == Int64.min + 2)
        #expect(parse("m v=1 9223372036854775807").errors.count == 1)
    }

    @Test("comments, blank lines, whitespace-only lines and leading whitespace are skipped")
    func skipping() {
        let text = "# a comment with v=1\n\n   \n\t\n  m v=1 1\n#m v=2 2\nm  v=3   3  \n"
        let (points, errors) = parse(text)
        #expect(errors.isEmpty)
        #expect(points.map(\.time) == [1, 3])
    }

    @Test("CRLF line ends")
    func crlf() {
        let (points, errors) = parse("m v=1 1\r\nm v=2\r\nm s=\"x\" 3\r\n\r\nm,t=a b=true 4\r\n")
        #expect(errors.isEmpty)
        #expect(points.map(\.time) == [1, 1_000_000_000_000, 3, 4])
        #expect(points[1].fields == ["v": .double(2)])
        #expect(points[3].fields == ["b": .bool(true)])
    }

    @Test("a repeated field key keeps the last value, as InfluxDB does")
    func duplicateFields() {
        let (points, errors) = parse("m v=1,w=2,v=3i 1")
        #expect(errors.isEmpty)
        #expect(points.first?.fields == ["v": .int(3), "w": .double(2)])
    }

    @Test("a last line without line break is parsed")
    func noFinalNewline() {
        #expect(parse("m v=1 1\nm v=2 2").points.map(\.time) == [1, 2])
    }

    @Test("repeated series and field lists give equal points (through the parser's caches)")
    func cachesGiveSameResult() {
        var text = ""
        for k in 0..<3000 { text += "cpu,host=h\(k % 1000),dc=x\\ y v=\(k),w=\(k)i \(k)\n" }
        let (points, errors) = parse(text)
        #expect(errors.isEmpty)
        #expect(points.count == 3000)
        for k in [0, 999, 1000, 2999] {
            #expect(points[k] == point("cpu", ["host": "h\(k % 1000)", "dc": "x y"], ["v": .double(Double(k)), "w": .int(Int64(k))], Int64(k)))
        }
    }

    @Test("Precision reads the names /write accepts")
    func precisionNames() {
        #expect(Precision("") == .nanoseconds)
        #expect(Precision("ns") == .nanoseconds)
        #expect(Precision("u") == .microseconds)
        #expect(Precision("ms") == .milliseconds)
        #expect(Precision("s") == .seconds)
        #expect(Precision("m") == .minutes)
        #expect(Precision("h") == .hours)
        #expect(Precision("d") == nil)
        #expect(Precision.seconds.truncate(-1) == -1_000_000_000)
    }
}

@Suite("Parsed series share interned storage")
struct InternedSeriesTests {
    @Test("the points of a series share one tag storage and one key list, across parsers")
    func sharedAcrossParsers() {
        var first = LineProtocolParser(defaultTime: 0, database: "db", retentionPolicy: "rp")
        var second = LineProtocolParser(defaultTime: 0, database: "db", retentionPolicy: "rp")
        var points: [Point] = []
        #expect(first.parse("cpu,host=interned-a value=1 1\ncpu,host=interned-b value=2 2\n", into: &points).isEmpty)
        #expect(second.parse("cpu,host=interned-a value=3 3\n", into: &points).isEmpty)
        #expect(points.count == 3)
        #expect(points[0].tags == ["host": "interned-a"] && points[1].tags == ["host": "interned-b"])
        #expect(points[0].tags.storageIdentity == points[2].tags.storageIdentity)
        #expect(points[0].tags.storageIdentity != points[1].tags.storageIdentity)
        #expect(points[0].tags.storageIdentity == SeriesInterner.shared.intern(["host": "interned-a"]).storageIdentity)
        points[0].fields.sortedKeys.withUnsafeBufferPointer { a in
            points[2].fields.sortedKeys.withUnsafeBufferPointer { #expect(a.baseAddress == $0.baseAddress) }
        }
        // Changing a point's tags changes that point only.
        points[2].tags["host"] = "changed"
        #expect(points[0].tags["host"] == "interned-a" && points[2].tags["host"] == "changed")
    }

    @Test("the points of a series share one interned series, with the parser's database and retention policy")
    func sharedSeries() {
        var parser = LineProtocolParser(defaultTime: 0, database: "db", retentionPolicy: "rp")
        var points: [Point] = []
        #expect(parser.parse("cpu,host=series-a value=1 1\ncpu,host=series-b value=2 2\ncpu,host=series-a value=3 3\n",
                             into: &points).isEmpty)
        #expect(points[0].series === points[2].series && points[0].series !== points[1].series)
        #expect(points[0].series === SeriesInterner.shared.intern(
            SeriesKey(name: "cpu", tags: ["host": "series-a"], database: "db", retentionPolicy: "rp")))
        #expect(points[0].database == "db" && points[0].retentionPolicy == "rp")
    }

    @Test("a parser whose database or retention policy changes gives the next points the new ones")
    func changedDatabase() {
        var parser = LineProtocolParser(defaultTime: 0, database: "db", retentionPolicy: "rp")
        var points: [Point] = []
        #expect(parser.parse("cpu,host=a value=1 1\n", into: &points).isEmpty)
        parser.database = "other"
        #expect(parser.parse("cpu,host=a value=2 2\n", into: &points).isEmpty)
        parser.retentionPolicy = "week"
        #expect(parser.parse("cpu,host=a value=3 3\n", into: &points).isEmpty)
        parser.database = "db"
        parser.retentionPolicy = "rp"
        #expect(parser.parse("cpu,host=a value=4 4\n", into: &points).isEmpty)
        #expect(points.map(\.database) == ["db", "other", "other", "db"])
        #expect(points.map(\.retentionPolicy) == ["rp", "rp", "week", "rp"])
        #expect(points.allSatisfy { $0.name == "cpu" && $0.tags == ["host": "a"] })
        #expect(points[0].series === points[3].series, "back to the first database: its interned series again")
        #expect(points[1].series === SeriesInterner.shared.intern(SeriesKey(name: "cpu", tags: ["host": "a"], database: "other",
                                                                            retentionPolicy: "rp")))
    }
}
