import Testing
import TICKScript
import TockModel
@testable import Engine

private typealias A = AST

/// 2021-03-04T05:06:07Z, a Thursday.
private let t0: Timestamp = 1_614_834_367 * GoDuration.second
private let fields: Fields = ["value": .double(81.5), "count": .int(7), "name": .string("printer-01"), "ok": .bool(true)]
private let tags: Tags = ["host": "a", "region": "eu-west"]

private func eval(_ e: Expression) throws -> FieldValue {
    try Lambda(e).evaluate(time: t0, fields: fields, tags: tags)
}

@Suite("Lambda expressions")
struct LambdaTests {
    static let cases: [(String, Expression, FieldValue)] = [
        ("field reference", A.ref("value"), .double(81.5)),
        ("tag reference", A.ref("host"), .string("a")),
        ("float comparison", A.bin(.greater, A.ref("value"), A.float(80)), .bool(true)),
        ("int compares with float", A.bin(.less, A.ref("count"), A.float(7.5)), .bool(true)),
        ("int arithmetic stays int", A.bin(.add, A.ref("count"), A.int(3)), .int(10)),
        ("int division truncates", A.bin(.divide, A.ref("count"), A.int(2)), .int(3)),
        ("modulo", A.bin(.modulo, A.ref("count"), A.int(4)), .int(3)),
        ("float arithmetic", A.bin(.multiply, A.ref("value"), A.float(2)), .double(163)),
        ("string concatenation", A.bin(.add, A.ref("host"), A.str("-x")), .string("a-x")),
        ("regex match", A.bin(.regexMatch, A.ref("region"), A.regex("^eu-")), .bool(true)),
        ("regex not match", A.bin(.regexNotMatch, A.ref("region"), A.regex("^us-")), .bool(true)),
        ("AND", A.bin(.and, A.ref("ok"), A.bin(.equal, A.ref("host"), A.str("a"))), .bool(true)),
        ("OR short-circuits past a missing field", A.bin(.or, A.bool(true), A.bin(.greater, A.ref("missing"), A.int(1))), .bool(true)),
        ("AND short-circuits past a missing field", A.bin(.and, A.bool(false), A.bin(.greater, A.ref("missing"), A.int(1))), .bool(false)),
        ("not", A.not(A.ref("ok")), .bool(false)),
        ("negate", A.neg(A.ref("count")), .int(-7)),
        ("isPresent true", A.call("isPresent", A.ref("value")), .bool(true)),
        ("isPresent false", A.call("isPresent", A.ref("nope")), .bool(false)),
        ("if", A.call("if", A.bin(.greater, A.ref("value"), A.float(90)), A.str("hot"), A.str("ok")), .string("ok")),
        ("float()", A.call("float", A.ref("count")), .double(7)),
        ("int() truncates", A.call("int", A.ref("value")), .int(81)),
        ("string() of a float", A.call("string", A.ref("value")), .string("81.5")),
        ("bool() of a string", A.call("bool", A.str("true")), .bool(true)),
        ("duration() with unit", A.call("duration", A.int(5), A.dur(GoDuration.minute)), .int(5 * GoDuration.minute)),
        ("abs", A.call("abs", A.float(-2.5)), .double(2.5)),
        ("sqrt", A.call("sqrt", A.float(16)), .double(4)),
        ("pow", A.call("pow", A.float(2), A.float(10)), .double(1024)),
        ("max", A.call("max", A.ref("value"), A.float(100)), .double(100)),
        ("floor", A.call("floor", A.ref("value")), .double(81)),
        ("strLength counts bytes", A.call("strLength", A.ref("name")), .int(10)),
        ("strContains", A.call("strContains", A.ref("name"), A.str("inter")), .bool(true)),
        ("strIndex", A.call("strIndex", A.ref("name"), A.str("-")), .int(7)),
        ("strSubstring", A.call("strSubstring", A.ref("name"), A.int(0), A.int(7)), .string("printer")),
        ("strReplace", A.call("strReplace", A.str("a.b.c"), A.str("."), A.str("-"), A.int(-1)), .string("a-b-c")),
        ("strToUpper", A.call("strToUpper", A.ref("host")), .string("A")),
        ("strTrimPrefix", A.call("strTrimPrefix", A.ref("region"), A.str("eu-")), .string("west")),
        ("strTrim", A.call("strTrim", A.str("xxhixx"), A.str("x")), .string("hi")),
        ("regexReplace with group", A.call("regexReplace", A.regex("(\\w+)-(\\w+)"), A.ref("region"), A.str("$2.$1")), .string("west.eu")),
        ("minute", A.call("minute", A.ref("time")), .int(6)),
        ("hour", A.call("hour", A.ref("time")), .int(5)),
        ("weekday (Thursday = 4)", A.call("weekday", A.ref("time")), .int(4)),
        ("day", A.call("day", A.ref("time")), .int(4)),
        ("month", A.call("month", A.ref("time")), .int(3)),
        ("year", A.call("year", A.ref("time")), .int(2021)),
        ("unixNano", A.call("unixNano", A.ref("time")), .int(t0)),
        ("humanBytes", A.call("humanBytes", A.int(82_854_982)), .string("83 MB")),
        ("humanBytes small", A.call("humanBytes", A.float(1500)), .string("1.5 kB")),
        ("time comparison with duration arithmetic", A.bin(.less, A.bin(.subtract, A.ref("time"), A.dur(GoDuration.second)), A.ref("time")), .bool(true)),
    ]

    @Test("evaluates", arguments: cases)
    func evaluates(_ name: String, _ expression: Expression, _ expected: FieldValue) throws {
        #expect(try eval(expression) == expected, "\(name)")
    }

    static let runtimeErrors: [(Expression, String)] = [
        (A.bin(.greater, A.ref("nope"), A.int(1)), "no field or tag exists for nope"),
        (A.bin(.add, A.ref("count"), A.float(1)), "mismatched type to binary operator. got int + float. see bool(), int(), float(), string(), duration()"),
        (A.call("abs", A.ref("count")), "cannot pass int as argument 1 to abs, must be float"),
        (A.call("bool", A.int(3)), "cannot convert 3 to boolean"),
        (A.bin(.divide, A.ref("count"), A.int(0)), "integer division by zero"),
    ]

    @Test("a name that is both a field and a tag of the point is an error, as Kapacitor's fillScope")
    func fieldAndTagWithTheSameName() throws {
        let clash: Tags = ["host": "a", "value": "tag"]
        #expect(throws: LambdaError("cannot have field and tags with same name \"value\"")) {
            try Lambda(A.ref("value")).evaluate(time: t0, fields: fields, tags: clash)
        }
        // Only names the lambda reads are checked.
        #expect(try Lambda(A.ref("count")).evaluate(time: t0, fields: fields, tags: clash) == .int(7))
    }

    @Test("fails on data with Kapacitor's messages", arguments: runtimeErrors)
    func runtimeError(_ expression: Expression, _ message: String) throws {
        #expect(throws: LambdaError(message)) { try eval(expression) }
    }

    static let staticErrors: [(Expression, String, SourcePosition)] = [
        (A.call("sigmaa", A.ref("value"), at: A.at(2, 9)), "undefined function \"sigmaa\"; did you mean \"sigma\"?", A.at(2, 9)),
        (A.call("abs", A.float(1), A.float(2), at: A.at(1, 5)), "abs expects 1 argument, got 2", A.at(1, 5)),
        (A.call("abs", A.int(3, A.at(1, 13))), "cannot pass int as argument 1 to abs, must be float", A.at(1, 13)),
        (A.bin(.add, A.int(5), A.float(1.5), A.at(3, 4)), "mismatched type to binary operator. got int + float. see bool(), int(), float(), string(), duration()", A.at(3, 4)),
        (A.bin(.less, A.bool(true), A.bool(false), A.at(1, 2)), "invalid comparison operator < for type boolean", A.at(1, 2)),
        (A.bin(.modulo, A.float(5), A.float(2), A.at(1, 2)), "invalid math operator % for type float", A.at(1, 2)),
        (A.call("if", A.bool(true), A.int(1), A.float(1), at: A.at(4, 1)), "different return types are not supported: second argument is int and third argument is float", A.at(4, 1)),
        (A.bin(.greater, A.ref("v"), A.ident("threshold", A.at(1, 10))), "undefined variable \"threshold\" in lambda", A.at(1, 10)),
    ]

    @Test("rejects errors visible before data, at their position", arguments: staticErrors)
    func staticError(_ expression: Expression, _ message: String, _ position: SourcePosition) {
        #expect(throws: ScriptError(message, at: position)) { try Lambda(expression) }
    }

    @Test("evaluateBool requires a boolean")
    func evaluateBool() throws {
        let point = Point(name: "m", tags: tags, fields: fields, time: t0)
        #expect(try Lambda(A.bin(.equal, A.ref("host"), A.str("a"))).evaluateBool(point))
        #expect(throws: LambdaError.self) { try Lambda(A.ref("value")).evaluateBool(point) }
    }

    @Test("sigma follows Welford's sample deviation; fresh() starts over")
    func sigma() throws {
        let lambda = try Lambda(A.call("sigma", A.ref("v")))
        #expect(lambda.isStateful)
        func feed(_ l: Lambda, _ v: Double) throws -> FieldValue {
            try l.evaluate(time: 0, fields: ["v": .double(v)], tags: [:])
        }
        #expect(try feed(lambda, 1) == .double(0))
        // values 1, 3: mean 2, sample stddev sqrt(2); |3-2|/sqrt(2)
        #expect(try feed(lambda, 3) == .double(1 / 2.0.squareRoot()))
        // values 1, 3, 5: mean 3, sample variance 4; |5-3|/2 = 1
        #expect(try feed(lambda, 5) == .double(1))
        let other = lambda.fresh()
        #expect(try feed(other, 10) == .double(0))
    }

    @Test("count and spread keep state per instance")
    func countAndSpread() throws {
        let count = try Lambda(A.call("count"))
        let spread = try Lambda(A.call("spread", A.ref("v")))
        var last: [FieldValue] = []
        for v in [4.0, 1.0, 9.0] {
            last = [try count.evaluate(time: 0, fields: ["v": .double(v)], tags: [:]),
                    try spread.evaluate(time: 0, fields: ["v": .double(v)], tags: [:])]
        }
        #expect(last == [.int(3), .double(8)])
        #expect(try count.fresh().evaluate(time: 0, fields: [:], tags: [:]) == .int(1))
    }
}

@Suite("Go-compatible JSON and times")
struct OutputFormatTests {
    @Test("floats print as Go's encoding/json prints them", arguments: [
        (90.0, "90"), (0.5, "0.5"), (-2.25, "-2.25"), (1e21, "1e+21"), (1e-7, "1e-7"), (123456.789, "123456.789"),
        (1e20, "100000000000000000000"), (0.000001, "0.000001"), (0, "0"),
    ])
    func floats(_ v: Double, _ expected: String) {
        #expect(GoJSON.float(v) == expected)
    }

    @Test("strings escape like Go")
    func strings() {
        #expect(GoJSON.string("a\"b\\c\n<&>") == #""a\"b\\c\n\u003c\u0026\u003e""#)
    }

    @Test("RFC3339Nano round-trips and trims the fraction", arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"), (31_536_000 * GoDuration.second + 500 * GoDuration.millisecond, "1971-01-01T00:00:00.5Z"),
        (t0 + 123, "2021-03-04T05:06:07.000000123Z"), (-GoDuration.second, "1969-12-31T23:59:59Z"),
    ])
    func times(_ t: Timestamp, _ text: String) {
        #expect(RFC3339Nano.format(t) == text)
        #expect(RFC3339Nano.parse(text) == t)
    }

    @Test("RFC3339 parses offsets")
    func offsets() {
        #expect(RFC3339Nano.parse("1970-01-01T01:00:00+01:00") == 0)
        #expect(RFC3339Nano.parse("1970-01-01T00:00:00") == nil)
    }

    @Test("stream point row: all tags, time + sorted fields")
    func pointRow() {
        let p = Point(name: "cpu", tags: ["host": "a", "dc": "x"], fields: ["usage": .double(90), "n": .int(3)], time: 0)
        #expect(Series.json(.point(p)) == #"{"name":"cpu","tags":{"dc":"x","host":"a"},"columns":["time","n","usage"],"values":[["1970-01-01T00:00:00Z",3,90]]}"#)
    }

    @Test("batch row: group tags, columns from the first point's fields and non-group tags")
    func batchRow() {
        let b = Batch(name: "cpu", group: GroupID("host=a"), tags: ["host": "a"], dimensions: Dimensions(tagNames: ["host"]),
                      tmax: 10, points: [
                        BatchPoint(time: 1, fields: ["v": .double(1.5)], tags: ["host": "a", "cpu": "0"]),
                        BatchPoint(time: 2, fields: [:], tags: ["host": "a"]),
                      ])
        #expect(Series.result([.batch(b)]) == #"{"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","cpu","v"],"values":[["1970-01-01T00:00:00.000000001Z","0",1.5],["1970-01-01T00:00:00.000000002Z",null,null]]}]}"#)
    }
}
