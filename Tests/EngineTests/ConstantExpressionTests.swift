import Testing
import TICKScript
import TockModel
@testable import Engine

/// Expressions outside lambdas are evaluated when the script is built, with a lambda's typing
/// (Kapacitor's `tick/eval.go` hands them to its lambda evaluator).
@Suite("Constant expressions outside lambdas")
struct ConstantExpressionTests {
    static func constants(_ script: String) throws -> [String: Value] {
        TaskBuilder(taskID: "t").constants(of: try Program.parse(script))
    }

    static let values: [(script: String, variable: String, value: Value)] = [
        ("var name = 'cpu'\nvar idVar = name + ':{{.Group}}'", "idVar", .string("cpu:{{.Group}}")),
        ("var id = 'Power_Consumption_Rule' + ':{{.Group}}'", "id", .string("Power_Consumption_Rule:{{.Group}}")),
        ("var a = 'a' + 'b' + 'c'", "a", .string("abc")),
        ("var p = 5m * 2", "p", .duration(10 * 60 * GoDuration.second)),
        ("var p = 2 * 5m", "p", .duration(10 * 60 * GoDuration.second)),
        ("var period = 10m\nvar every = period / 5", "every", .duration(2 * 60 * GoDuration.second)),
        ("var n = 10m / 5m", "n", .int(2)),
        ("var d = 1h - 15m + 30s", "d", .duration((45 * 60 + 30) * GoDuration.second)),
        ("var n = -3 + 1", "n", .int(-2)),
        ("var n = 10 % 3", "n", .int(1)),
        ("var n = 7 / 2", "n", .int(3)),
        ("var f = 2.5 * 2.0", "f", .float(5.0)),
        ("var f = (1.0 + 2.0) * 3.0", "f", .float(9.0)),
        ("var period = 5m\nvar back = -period", "back", .duration(-5 * 60 * GoDuration.second)),
        ("var b = 5 > 3 AND TRUE", "b", .bool(true)),
        ("var b = 2 < 1.5", "b", .bool(false)),
        ("var b = !FALSE", "b", .bool(true)),
        ("var b = 'abc' =~ /b/", "b", .bool(true)),
        ("var b = 'a' == 'a' OR FALSE", "b", .bool(true)),
    ]

    @Test(arguments: values)
    func evaluatesWhenTheScriptIsBuilt(_ c: (script: String, variable: String, value: Value)) throws {
        #expect(try Self.constants(c.script)[c.variable] == c.value)
    }

    static let errors: [(script: String, error: String)] = [
        ("var x = 5 * 2.0\n", "1:9: mismatched type to binary operator. got int * float. see bool(), int(), float(), string(), duration()"),
        ("var x = 'a' + 1\n", "1:9: mismatched type to binary operator. got string + int. see bool(), int(), float(), string(), duration()"),
        ("var x = 'a' - 'b'\n", "1:9: invalid math operator - for type string"),
        ("var x = 5m * 1.5\n", "1:9: mismatched type to binary operator. got duration * float. see bool(), int(), float(), string(), duration()"),
        ("var x = 'cpu'\nvar y = \"value\" + x\n", "2:9: field reference \"value\" is only allowed inside a lambda; use a single-quoted string 'value' here"),
        ("var crit = lambda: TRUE\nvar y = crit AND TRUE\n", "2:9: \"crit\" holds a lambda, which cannot be used in an expression outside a lambda"),
        ("var y = nope + 'a'\n", "1:9: undefined variable \"nope\""),
        ("var x = -'a'\n", "1:9: invalid argument to '-': string"),
    ]

    @Test(arguments: errors)
    func aBadExpressionIsAnErrorAtItsPosition(_ c: (script: String, error: String)) throws {
        let script = c.script + "stream\n    |from()\n"
        let error = buildErrorOrParseError(script)
        #expect(error == c.error)
    }

    func buildErrorOrParseError(_ script: String) -> String? {
        do {
            _ = try TaskBuilder(taskID: "t").build(try Program.parse(script))
            return nil
        } catch let e as ScriptError {
            return e.description
        } catch {
            return "\(error)"
        }
    }

    @Test func propertyArgumentsAreEvaluatedToo() throws {
        let script = """
            var name = 'Power_Consumption_Rule'
            var period = 10s
            stream
                |from()
                    .measurement('power')
                |window()
                    .period(period * 2)
                    .every(period)
                |count('value')
                |alert()
                    .id(name + ':{{.Group}}')
                    .message('{{ .ID }} ' + 'counted {{ index .Fields "count" }}')
                    .crit(lambda: "count" > 0)
            """
        let points = (0..<45).map { point("power", [:], ["value": .double(Double($0))], at: Int64($0)) }
        let (c, _) = try run(script, points)
        let alerts = c.events.compactMap { if case .alert(let json) = $0.event { json } else { nil } }
        // Windows of 20s every 10s over 45 s: closed at 10s, 20s, 30s, 40s (the first ones partial).
        #expect(alerts.count == 4)
        #expect(alerts.allSatisfy { $0.contains(#""id":"Power_Consumption_Rule:nil""#) })
        #expect(alerts.first?.contains(#""message":"Power_Consumption_Rule:nil counted 10""#) == true)
        #expect(alerts.last?.contains(#""message":"Power_Consumption_Rule:nil counted 20""#) == true)
    }

    @Test func aTemplateVariableFeedsAnExpression() throws {
        let script = """
            var name string
            var id = name + ':{{.Group}}'
            stream
                |from()
            """
        let values = TaskBuilder(taskID: "t", variables: ["name": .string("disk")]).constants(of: try Program.parse(script))
        #expect(values["id"] == .string("disk:{{.Group}}"))
    }

    @Test func anExpressionVariableIsSettableThroughVarsWithItsType() throws {
        let program = try Program.parse("var name = 'cpu'\nvar idVar = name + ':{{.Group}}'\nvar p = 5m * 2\nstream\n    |from()\n")
        let types = Dictionary(uniqueKeysWithValues: program.templateVariables.map { ($0.name, $0.type) })
        #expect(types == ["name": .string, "idVar": .string, "p": .duration])
        let applied = try program.applying(vars: ["idVar": .string("fixed")])
        #expect(TaskBuilder(taskID: "t").constants(of: applied)["idVar"] == .string("fixed"))
        #expect(throws: ScriptError.self) { try program.applying(vars: ["p": .string("10m")]) }
    }
}
