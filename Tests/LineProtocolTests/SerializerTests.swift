import Testing
import LineProtocol
import TockModel

@Suite("Line protocol serializer")
struct SerializerTests {
    let serializer = LineProtocolSerializer()

    @Test("types get their suffixes and strings their quotes")
    func types() throws {
        let p = point("m", ["host": "a"], [
            "f": .double(0.5), "i": .int(-3), "u": .uint(7), "s": .string(#"say "hi" \ ok"#), "b": .bool(false), "g": .double(1e-5),
        ], 1_465_839_830_100_400_200)
        #expect(try serializer.line(p) == #"m,host=a b=false,f=0.5,g=1e-05,i=-3i,s="say \"hi\" \\ ok",u=7u 1465839830100400200"#)
    }

    @Test("escaping of names, keys and values")
    func escaping() throws {
        let p = point("my meas,ure=x", ["ta g=k,ey": "v a,l=ue", "path": #"C:\temp\new"#], [#"f\\=x"#: .double(1)], 5)
        #expect(try serializer.line(p) == #"my\ meas\,ure=x,path=C:\temp\new,ta\ g\=k\,ey=v\ a\,l\=ue f\\\=x=1.0 5"#)
    }

    @Test("backslashes are written as they are, plus one where InfluxDB would otherwise drop one")
    func backslashes() throws {
        // Tag value a\,b: the backslash stays, the comma is escaped; InfluxDB drops only the escaping backslash.
        #expect(try serializer.line(point("m", ["t": #"a\,b"#, "u": #"a\\b"#], ["v": .int(1)], 0)) == #"m,t=a\\,b,u=a\\b v=1i 0"#)
        // Measurement a\"b and a\=b: InfluxDB drops a backslash before " and = in a measurement, so one more is written.
        #expect(try serializer.line(point(#"a\"b\=c"#, [:], ["v": .int(1)], 0)) == #"a\\"b\\=c v=1i 0"#)
        // Field key a\"b likewise; an even run of backslashes before an escaped comma stays even.
        #expect(try serializer.line(point("m", [:], [#"a\"b"#: .int(1), #"c\\,d"#: .int(2)], 0)) == #"m a\\"b=1i,c\\\,d=2i 0"#)
    }

    @Test("a backslash line protocol cannot carry is refused with the name it is in")
    func unrepresentableBackslashes() {
        #expect(throws: LineProtocolSerializationError(measurement: "m", message: #"tag value "C:\" ends with a backslash, which InfluxDB would read as escaping the character after it"#)) {
            try serializer.line(point("m", ["t": #"C:\"#], ["v": .int(1)], 0))
        }
        #expect(throws: LineProtocolSerializationError.self) { try serializer.line(point(#"m\"#, [:], ["v": .int(1)], 0)) }
        #expect(throws: LineProtocolSerializationError.self) { try serializer.line(point("m", [#"k\"#: "a"], ["v": .int(1)], 0)) }
        #expect(throws: LineProtocolSerializationError.self) { try serializer.line(point("m", [:], [#"v\"#: .int(1)], 0)) }
        #expect(throws: LineProtocolSerializationError(measurement: "m", message: #"field key "a\,b" has a backslash before ",", which line protocol cannot carry"#)) {
            try serializer.line(point("m", [:], [#"a\,b"#: .int(1)], 0))
        }
        var out: [UInt8] = Array("kept\n".utf8)
        #expect(throws: LineProtocolSerializationError.self) { try serializer.append(point("m", ["t": #"x\"#], ["v": .int(1)], 0), to: &out) }
        #expect(out == Array("kept\n".utf8), "a refused point leaves nothing behind")
    }

    @Test("timestamps in the serializer's precision, truncated toward zero")
    func precision() throws {
        let p = point("m", [:], ["v": .int(1)], 1_700_000_123_987_000_000)
        #expect(try LineProtocolSerializer(precision: .seconds).line(p) == "m v=1i 1700000123")
        #expect(try LineProtocolSerializer(precision: .milliseconds).line(p) == "m v=1i 1700000123987")
        #expect(try LineProtocolSerializer(precision: .seconds).line(point("m", [:], ["v": .int(1)], -1_500_000_000)) == "m v=1i -1")
    }

    @Test("tags with empty values are left out; line breaks in names are written as \\n")
    func emptyTagsAndNewlines() throws {
        let p = point("m", ["empty": "", "nl": "a\nb"], ["v": .bool(true)], 0)
        #expect(try serializer.line(p) == #"m,nl=a\nb v=true 0"#)
    }

    @Test("points line protocol cannot carry are refused with a reason")
    func refused() {
        #expect(throws: LineProtocolSerializationError(measurement: "m", message: #"field "v" is nan, which line protocol cannot carry"#)) {
            try serializer.line(point("m", [:], ["v": .double(.nan)], 0))
        }
        #expect(throws: LineProtocolSerializationError(measurement: "m", message: "a point needs at least one field")) {
            try serializer.line(point("m", [:], [:], 0))
        }
        #expect(throws: LineProtocolSerializationError(measurement: "", message: "the measurement is empty")) {
            try serializer.line(point("", [:], ["v": .int(1)], 0))
        }
        #expect(throws: LineProtocolSerializationError(measurement: "#m", message: ##"a measurement starting with "#" would read as a comment"##)) {
            try serializer.line(point("#m", [:], ["v": .int(1)], 0))
        }
        #expect(throws: LineProtocolSerializationError(measurement: "m", message: "a tag key is empty")) {
            try serializer.line(point("m", ["": "x"], ["v": .int(1)], 0))
        }
    }
}
