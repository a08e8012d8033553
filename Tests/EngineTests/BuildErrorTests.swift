import Testing
import TICKScript
import TockModel
@testable import Engine

/// A UDF provider with two UDFs, as the plugin host would describe them.
struct FakeUDFs: UDFProvider {
    func info(for name: String) throws -> UDFInfo? {
        switch name {
        case "movingAverage":
            UDFInfo(wants: .stream, provides: .stream, options: ["field": [.string], "size": [.int], "alpha": [.double], "as": [.string]])
        case "tTest":
            UDFInfo(wants: .batch, provides: .stream, options: ["field": [.string]])
        default:
            nil
        }
    }

    func makeNode(name: String, taskID: String, nodeID: String, options: [UDFOption]) throws -> any Node {
        RecordingUDF(options: options)
    }
}

/// Stands in for a UDF node: passes data through and remembers its options.
final class RecordingUDF: Node {
    let options: [UDFOption]
    init(options: [UDFOption]) { self.options = options }
    func receive(_ message: Message, port: Int, output: any NodeOutput) throws { output.emit(message) }
}

@Suite("Script errors found while building the pipeline")
struct BuildErrorTests {
    static let cases: [(String, String, String)] = [
        ("unknown node, with the closest name",
         "stream\n    |from()\n    |windw()\n",
         "3:5: unknown node \"windw\"; did you mean \"window\"?"),
        ("unknown property, with the closest name and the known ones",
         "stream\n    |from()\n    |window()\n        .perod(5m)\n",
         "4:9: unknown property \"perod\" on window; did you mean \"period\"? Properties of window: align, every, everyCount, fillPeriod, period, periodCount, quiet"),
        ("wrong argument type",
         "stream\n    |from()\n    |window()\n        .period(10)\n",
         "4:17: argument 1 of .period() on window must be duration, got int"),
        ("wrong argument count",
         "stream\n    |from()\n    |window(5m)\n",
         "3:5: window() takes 0 arguments, got 1"),
        ("a batch node after a stream",
         "stream\n    |from()\n    |query('SELECT 1')\n",
         "3:5: query() can only follow batch"),
        ("a stream node after a batch",
         "stream\n    |from()\n    |window().period(1m)\n    |window().period(1m)\n",
         "4:5: window needs a stream edge but window2 provides a batch"),
        ("from() only after stream",
         "stream\n    |from()\n    |from()\n",
         "3:5: from() can only follow stream"),
        ("a static type error inside a lambda",
         "stream\n    |from()\n        .where(lambda: \"value\" > 5 + 1.5)\n",
         "3:34: mismatched type to binary operator. got int + float. see bool(), int(), float(), string(), duration()"),
        ("an unknown lambda function",
         "stream\n    |from()\n    |eval(lambda: sigmaa(\"value\")).as('s')\n",
         "3:19: undefined function \"sigmaa\"; did you mean \"sigma\"?"),
        ("a node's own configuration check, at the node",
         "stream\n    |from()\n    |eval(lambda: 1, lambda: 2).as('a')\n",
         "3:5: eval2: eval has 2 expressions but 1 name in .as(): give one name per expression"),
        ("undefined UDF",
         "stream\n    |from()\n    @movingAvg()\n",
         "3:5: no UDF named \"movingAvg\" is configured"),
        ("undeclared UDF option",
         "stream\n    |from()\n    @movingAverage()\n        .sizee(10)\n",
         "4:9: @movingAverage has no option \"sizee\"; did you mean \"size\"? Options: alpha, as, field, size"),
        ("int literal for a DOUBLE UDF option",
         "stream\n    |from()\n    @movingAverage()\n        .alpha(1)\n",
         "4:16: option alpha of @movingAverage: argument 1 must be double, got int (write 1.0)"),
        ("float literal for an INT UDF option",
         "stream\n    |from()\n    @movingAverage()\n        .size(3.0)\n",
         "4:15: option size of @movingAverage: argument 1 must be int, got float"),
        ("UDF option argument count",
         "stream\n    |from()\n    @movingAverage()\n        .field('a', 'b')\n",
         "4:9: option field of @movingAverage takes 1 argument, got 2"),
        ("UDF edge type",
         "stream\n    |from()\n    @tTest()\n",
         "3:5: @tTest wants a batch edge but from1 provides a stream"),
        ("missing template variable",
         "var threshold float\nstream\n    |from()\n        .where(lambda: \"value\" > threshold)\n",
         "1:1: missing value for template variable \"threshold\" (float)"),
    ]

    @Test("reports message and line:column", arguments: cases)
    func reports(_ name: String, _ script: String, _ expected: String) {
        let error = buildError(script, udfs: FakeUDFs())
        // Unknown-node errors go on to list every registered node; the start is what matters here.
        #expect(error?.description.hasPrefix(expected) == true, "\(name): \(error?.description ?? "no error")")
    }

    @Test("UDF nodes get their checked options and take their edge types from the UDF's info")
    func udfOptions() throws {
        let script = "stream\n    |from()\n    @movingAverage()\n        .field('value')\n        .size(10)\n        .alpha(0.5)\n"
        let pipeline = try TaskBuilder(taskID: "t", udfProvider: FakeUDFs()).build(try Program.parse(script))
        let udf = try #require(pipeline.nodes.last?.node as? RecordingUDF)
        #expect(udf.options == [UDFOption(name: "field", values: [.string("value")]), UDFOption(name: "size", values: [.int(10)]),
                                UDFOption(name: "alpha", values: [.float(0.5)])])
        #expect(pipeline.nodes.map(\.id) == ["stream0", "from1", "movingAverage2"])
        #expect(pipeline.nodes.last?.outputType == .stream)
    }

    @Test("template variables are substituted into lambdas and properties")
    func templateVariables() throws {
        let script = "var threshold float\nvar every = 10s\nstream\n    |from()\n        .where(lambda: \"value\" > threshold)\n    |window().period(every).every(every)\n"
        let builder = TaskBuilder(taskID: "t", variables: ["threshold": .float(2), "every": .duration(20 * second)])
        let pipeline = try builder.build(try Program.parse(script))
        let window = try #require(pipeline.nodes[2].node as? WindowNode)
        #expect(window.period == 20 * second)
        let from = try #require(pipeline.nodes[1].node as? FromNode)
        #expect(try from.predicates.first?.evaluateBool(time: 0, fields: ["value": .double(3)], tags: [:]) == true)
        #expect(try from.predicates.first?.evaluateBool(time: 0, fields: ["value": .double(1)], tags: [:]) == false)
    }

    @Test("a rendered error shows the line and a caret")
    func rendered() throws {
        let script = "stream\n    |from()\n    |windw()\n"
        let error = try #require(buildError(script))
        #expect(error.rendered(source: script).hasSuffix("\n        |windw()\n        ^"))
    }
}
