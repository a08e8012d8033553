import Testing
import LineProtocol
import TockModel

/// One broken line, the column where the parser points and its exact message.
struct BrokenLine: Sendable, CustomTestStringConvertible {
    var line: String
    var column: Int
    var message: String
    var testDescription: String { line }
}

@Suite("Line protocol parser: broken lines")
struct ErrorTests {
    static let broken: [BrokenLine] = [
        .init(line: ",host=a v=1", column: 1, message: #"expected a measurement name, found ",""#),
        .init(line: "cpu", column: 4, message: #"expected fields after measurement "cpu", found end of line"#),
        .init(line: "cpu,", column: 5, message: #"expected a tag key after "cpu,", found end of line"#),
        .init(line: "cpu,=a v=1", column: 5, message: #"expected a tag key after "cpu,", found "=""#),
        .init(line: "cpu,host v=1", column: 9, message: #"expected "=" after tag key "host", found a space"#),
        .init(line: "cpu,host= v=1", column: 10, message: #"expected a tag value after "host=", found a space"#),
        .init(line: "cpu,host=a=b v=1", column: 11,
              message: #"expected "," or a space after tag value "a", found "=" (write it as \=)"#),
        .init(line: "cpu,host=a,host=b v=1", column: 12, message: #"duplicate tag key "host""#),
        .init(line: "cpu,host=a", column: 11, message: #"expected fields after "cpu,host=a", found end of line"#),
        .init(line: "cpu =1", column: 5, message: #"expected a field key, found "=""#),
        .init(line: "cpu v", column: 6, message: #"expected "=" after field key "v", found end of line"#),
        .init(line: "cpu temp=", column: 10, message: #"expected a field value after "temp=", found end of line"#),
        .init(line: "cpu temp=,x=1", column: 10, message: #"expected a field value after "temp=", found ",""#),
        .init(line: "cpu v=1.2.3", column: 7, message: #"invalid number "1.2.3" for field "v""#),
        .init(line: "cpu v=-", column: 7, message: #"invalid number "-" for field "v""#),
        .init(line: "cpu v=1.5i", column: 7, message: #"invalid integer "1.5i" for field "v""#),
        .init(line: "cpu v=9223372036854775808i", column: 7,
              message: #"integer "9223372036854775808i" is out of range for field "v""#),
        .init(line: "cpu v=-1u", column: 7, message: #"invalid unsigned integer "-1u" for field "v""#),
        .init(line: "cpu v=18446744073709551616u", column: 7,
              message: #"unsigned integer "18446744073709551616u" is out of range for field "v""#),
        .init(line: "cpu v=1e400", column: 7, message: #"float "1e400" is out of range for field "v""#),
        .init(line: "cpu v=tru", column: 7, message: #"invalid boolean "tru" for field "v""#),
        .init(line: "cpu v=NaN", column: 7,
              message: #"invalid value "NaN" for field "v": expected a number, a boolean or a string in double quotes"#),
        .init(line: #"cpu v="a"b"#, column: 10, message: #"expected "," or a space after the value of field "v", found "b""#),
        .init(line: "cpu v=1, 5", column: 9, message: #"expected a field key after ",", found a space"#),
        .init(line: "cpu v=1 12a3", column: 9, message: #"invalid timestamp "12a3": expected an integer"#),
        .init(line: "cpu v=1 99999999999999999999", column: 9, message: #"timestamp "99999999999999999999" is out of range"#),
        .init(line: "cpu v=1 123 456", column: 13, message: #"expected end of line after the timestamp, found "4""#),
        .init(line: "température,lieu=salle v=", column: 26, message: #"expected a field value after "v=", found end of line"#),
        .init(line: #"cpu v="abc"#, column: 7,
              message: #"expected a closing double quote for the string value of field "v", found end of input"#),
    ]

    @Test("a broken line gives its line, column and message; the good lines around it are kept", arguments: broken)
    func brokenLine(_ c: BrokenLine) {
        let (points, errors) = parse("good,n=1 v=1 1\n\(c.line)\ngood,n=3 v=3 3\n")
        #expect(errors == [LineProtocolError(line: 2, column: c.column, message: c.message, text: c.line)])
        #expect(points.map(\.time) == [1, 3])
        #expect(errors.first?.description == "line 2, column \(c.column): \(c.message)")
    }

    @Test("at least 20 distinct broken lines are covered")
    func coverage() {
        #expect(Set(Self.broken.map(\.message)).count >= 20)
    }

    @Test("a timestamp that overflows nanoseconds in its precision")
    func precisionOverflow() {
        let (points, errors) = parse("m v=1 9223372036\nm v=1 9300000000\n", precision: .seconds)
        #expect(points.map(\.time) == [9_223_372_036_000_000_000])
        #expect(errors.map(\.description) == [#"line 2, column 7: timestamp "9300000000" in precision "s" is out of range"#])
    }

    @Test("invalid UTF-8 in a name is an error")
    func invalidUTF8() {
        let (points, errors) = parse(bytes: Array("m v=1 1\n".utf8) + [0x63, 0xFF, 0x20] + Array("v=1 2\nm v=3 3\n".utf8))
        #expect(points.map(\.time) == [1, 3])
        #expect(errors.map(\.description) == ["line 2, column 1: invalid UTF-8 in measurement"])
    }

    @Test("several bad lines: each reported with its own line number, also after CRLF and multi-line strings")
    func severalErrors() {
        let text = "m v=1 1\r\nm v= 2\r\nm s=\"a\nb\nc\" 3\r\n# comment\r\nm v=x 4\r\n\r\nm v=5 5\r\n"
        let (points, errors) = parse(text)
        #expect(points.map(\.time) == [1, 3, 5])
        #expect(errors.map(\.description) == [
            #"line 2, column 5: expected a field value after "v=", found a space"#,
            #"line 7, column 5: invalid value "x" for field "v": expected a number, a boolean or a string in double quotes"#,
        ])
    }

    @Test("an unterminated string does not swallow the lines after it")
    func unterminatedString() {
        let (points, errors) = parse("m s=\"open 1\nm v=2 2\nm v=3 3\n")
        #expect(points.map(\.time) == [2, 3])
        #expect(errors.map(\.line) == [1])
    }
}
