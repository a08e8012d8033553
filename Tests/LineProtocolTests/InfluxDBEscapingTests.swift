import Testing
import LineProtocol
import TockModel

/// Backslashes in line protocol, as InfluxDB 1.x reads them.
///
/// The expected column was recorded from a real InfluxDB 1.6.7 (Debian's `influxdb` package, run on loopback with
/// a temporary directory): each line was POSTed alone to `/write` of a fresh database, then read back with
/// `SHOW MEASUREMENTS`, `SHOW TAG VALUES WITH KEY =~ /.*/`, `SHOW FIELD KEYS` and `SELECT * FROM /.*/`; a refused
/// line is listed with InfluxDB's reason. Not listed: lines whose measurement InfluxDB itself stores
/// inconsistently (`m\\\ x`, `m\\,x`: its index and its `Point.Name()` disagree), and a backslash before a
/// line break, which InfluxDB reads as part of the line and Tock as its end (see `backslashBeforeLineBreak`).
@Suite("Line protocol backslashes, as InfluxDB 1.6.7 reads them")
struct InfluxDBEscapingTests {
    struct Case: Sendable, CustomTestStringConvertible {
        enum Expected: Sendable {
            case point(name: String, tags: Tags, fields: Fields)
            /// InfluxDB's reason, for the reader: Tock's messages differ.
            case refused(String)
        }

        let line: String
        let expected: Expected

        init(_ line: String, _ name: String, _ tags: Tags, _ fields: Fields) {
            self.line = line
            expected = .point(name: name, tags: tags, fields: fields)
        }

        init(_ line: String, refused reason: String) {
            self.line = line
            expected = .refused(reason)
        }

        var testDescription: String { line }
    }

    static let cases: [Case] = [
        .init(#"m,t=a\\b v=1"#, #"m"#, [#"t"#: #"a\\b"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=C:\\ v=1"#, refused: #"invalid tag format"#),
        .init(#"m,t=C:\ v=1"#, refused: #"invalid tag format"#),
        .init(#"m,t=a\,b v=1"#, #"m"#, [#"t"#: #"a,b"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=a\\,b v=1"#, #"m"#, [#"t"#: #"a\,b"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=a\ b v=1"#, #"m"#, [#"t"#: #"a b"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=a\=b v=1"#, #"m"#, [#"t"#: #"a=b"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=a\b v=1"#, #"m"#, [#"t"#: #"a\b"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=a\\\,b v=1"#, #"m"#, [#"t"#: #"a\\,b"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=\\ v=1"#, refused: #"invalid tag format"#),
        .init(#"m,t==a v=1"#, #"m"#, [#"t"#: #"=a"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=a=b v=1"#, refused: #"invalid tag format"#),
        .init(#"m,t\=k=a v=1"#, #"m"#, [#"t=k"#: #"a"#], [#"v"#: .double(1.0)]),
        .init(#"m,t\\=k v=1"#, refused: #"missing tag value"#),
        .init(#"m,t\ k=a v=1"#, #"m"#, [#"t k"#: #"a"#], [#"v"#: .double(1.0)]),
        .init(#"m,t\,k=a v=1"#, #"m"#, [#"t,k"#: #"a"#], [#"v"#: .double(1.0)]),
        .init(#"m,t\\k=a v=1"#, #"m"#, [#"t\\k"#: #"a"#], [#"v"#: .double(1.0)]),
        .init(#"m,\t=a v=1"#, #"m"#, [#"\t"#: #"a"#], [#"v"#: .double(1.0)]),
        .init(#"m\ x v=1"#, #"m x"#, [:], [#"v"#: .double(1.0)]),
        .init(#"m\,x v=1"#, #"m,x"#, [:], [#"v"#: .double(1.0)]),
        .init(#"m\=x v=1"#, #"m=x"#, [:], [#"v"#: .double(1.0)]),
        .init(#"m=x v=1"#, #"m=x"#, [:], [#"v"#: .double(1.0)]),
        .init(#"m\\x v=1"#, #"m\\x"#, [:], [#"v"#: .double(1.0)]),
        .init(#"m\"x v=1"#, #"m"x"#, [:], [#"v"#: .double(1.0)]),
        .init(#"m\x v=1"#, #"m\x"#, [:], [#"v"#: .double(1.0)]),
        .init(#"m\ v=1"#, refused: #"missing fields"#),
        .init(#"m\\ v=1"#, refused: #"missing fields"#),
        .init(#"m a\ b=1"#, #"m"#, [:], [#"a b"#: .double(1.0)]),
        .init(#"m a\,b=1"#, #"m"#, [:], [#"a,b"#: .double(1.0)]),
        .init(#"m a\=b=1"#, #"m"#, [:], [#"a=b"#: .double(1.0)]),
        .init(#"m a\\b=1"#, #"m"#, [:], [#"a\\b"#: .double(1.0)]),
        .init(#"m a\"b=1"#, #"m"#, [:], [#"a"b"#: .double(1.0)]),
        .init(#"m a\b=1"#, #"m"#, [:], [#"a\b"#: .double(1.0)]),
        .init(#"m v="a\\b""#, #"m"#, [:], [#"v"#: .string(#"a\b"#)]),
        .init(#"m v="a\"b""#, #"m"#, [:], [#"v"#: .string(#"a"b"#)]),
        .init(#"m v="a\b""#, #"m"#, [:], [#"v"#: .string(#"a\b"#)]),
        .init(#"m v="C:\\""#, #"m"#, [:], [#"v"#: .string(#"C:\"#)]),
        .init(#"m v="a\\\"b""#, #"m"#, [:], [#"v"#: .string(#"a\"b"#)]),
        .init(#"m v="a\""#, refused: #"unbalanced quotes"#),
        .init(#"m v="a\\""#, #"m"#, [:], [#"v"#: .string(#"a\"#)]),
        .init(#"m v="a\nb""#, #"m"#, [:], [#"v"#: .string(#"a\nb"#)]),
        .init(#"m,t=a\\ b v=1"#, #"m"#, [#"t"#: #"a\ b"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=a\,u=b v=1"#, refused: #"invalid tag format"#),
        .init(#"m,t=a\\\\ v=1"#, refused: #"invalid tag format"#),
        .init(#"m,t=a\\\ b v=1"#, #"m"#, [#"t"#: #"a\\ b"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=\=a v=1"#, #"m"#, [#"t"#: #"=a"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=\,a v=1"#, #"m"#, [#"t"#: #",a"#], [#"v"#: .double(1.0)]),
        .init(#"m,t=a v=1,v\ 2=2"#, #"m"#, [#"t"#: #"a"#], [#"v"#: .double(1.0), #"v 2"#: .double(2.0)]),
        .init(#"m v\\=1"#, refused: #"invalid value: field-key=v\\=1"#),
        .init(#"m "v"=1"#, #"m"#, [:], [#""v""#: .double(1.0)]),
        .init(#"m,t="a b" v=1"#, refused: #"invalid field format"#),
        .init(#"m,t=a b=1"#, #"m"#, [#"t"#: #"a"#], [#"b"#: .double(1.0)]),
        .init("m,t=a\\\tb v=1", #"m"#, [#"t"#: "a\\\tb"], [#"v"#: .double(1.0)]),
        .init(#"m,t=a\"b v=1"#, #"m"#, [#"t"#: #"a\"b"#], [#"v"#: .double(1.0)]),
        .init(#"m,t\"k=a v=1"#, #"m"#, [#"t\"k"#: #"a"#], [#"v"#: .double(1.0)]),
        .init(#"m a\\ b=1"#, refused: #"invalid field format"#),
        .init(#"m a\\,b=1"#, refused: #"invalid field format"#),
        .init(#"m v="a\\\\b""#, #"m"#, [:], [#"v"#: .string(#"a\\b"#)]),
        .init(#"m,t=a v=1 1\"#, refused: #"bad timestamp"#),
        .init(#"m,t=a\\,u=b v=1"#, refused: #"invalid tag format"#),
        .init(#"m\, v=1"#, #"m,"#, [:], [#"v"#: .double(1.0)]),
        .init(#"m,t=a\\=b v=1"#, #"m"#, [#"t"#: #"a\=b"#], [#"v"#: .double(1.0)]),
    ]

    static var accepted: [Case] { cases.filter { if case .point = $0.expected { true } else { false } } }

    @Test("each line gives InfluxDB's point, or is refused as InfluxDB refuses it", arguments: cases)
    func reads(_ c: Case) {
        let (points, errors) = parse(c.line)
        switch c.expected {
        case .point(let name, let tags, let fields):
            #expect(errors.isEmpty)
            #expect(points.count == 1)
            #expect(points.first?.name == name)
            #expect(points.first?.tags == tags)
            #expect(points.first?.fields == fields)
        case .refused:
            #expect(points.isEmpty)
            #expect(errors.count == 1)
        }
    }

    @Test("the serializer writes each of InfluxDB's points as a line that reads back as the same point", arguments: accepted)
    func writesBack(_ c: Case) throws {
        guard case .point(let name, let tags, let fields) = c.expected else { return }
        let point = Point(name: name, tags: tags, fields: fields, time: 7, database: "db", retentionPolicy: "rp")
        let line = try LineProtocolSerializer().line(point)
        let (points, errors) = parse(line)
        #expect(errors.isEmpty, "\(line)")
        #expect(points == [point], "\(line)")
    }

    @Test("a backslash before a line break does not join the lines (InfluxDB would read one line, with the break in the tag)")
    func backslashBeforeLineBreak() {
        let (points, errors) = parse("m,t=a\\\nb v=1 1\n")
        #expect(errors.map(\.line) == [1])
        #expect(points.map(\.name) == ["b"])
    }
}
