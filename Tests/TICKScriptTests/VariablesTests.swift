import Testing
@testable import TICKScript

@Suite("Template variables and scope")
struct VariablesTests {
    static let template = """
        // Which measurement to consume
        var measurement string
        // Critical criteria
        var crit lambda
        var window = 5m
        var groups = ['host']
        var data = stream
            |from()
                .measurement(measurement)
        data
            |window()
                .period(window)
            |alert()
                .crit(crit)
        """

    @Test("Declarations and literal vars are settable; pipelines are not")
    func listing() throws {
        let variables = try Program.parse(Self.template).templateVariables
        #expect(variables.map(\.name) == ["measurement", "crit", "window", "groups"])
        #expect(variables.map(\.type) == [.string, .lambda, .duration, .list])
        #expect(variables[0].description == "Which measurement to consume")
        #expect(variables[0].defaultValue == nil)
        #expect(variables[0].position.description == "2:5")
        #expect(variables[2].defaultValue?.normalized == Expression(.duration(nanoseconds: 300_000_000_000, literal: ""), at: .init(line: 0, column: 0)))
    }

    @Test("Applying vars replaces values and turns declarations into variables")
    func applying() throws {
        let program = try Program.parse(Self.template).applying(vars: [
            "measurement": .string("cpu"),
            "crit": .lambda("\"usage_idle\" < 10"),
            "window": .duration(nanoseconds: 60_000_000_000),
        ])
        let scope = Scope(program)
        #expect(scope["measurement"]?.kind == .string("cpu", tripleQuoted: false))
        #expect(scope["window"]?.kind == .duration(nanoseconds: 60_000_000_000, literal: ""))
        guard case .lambda(let body) = scope["crit"]?.kind else { Issue.record("crit is not a lambda"); return }
        #expect(body.formatted() == "\"usage_idle\" < 10")
        #expect(body.position.description == "4:5", "errors in a vars lambda point at the variable")
        #expect(scope["groups"]?.normalized.kind == .list([Expression(.string("host", tripleQuoted: false), at: .init(line: 0, column: 0))]))
        #expect(scope.definition(of: "data")?.position.description == "7:1")
        #expect(scope["stream"] == nil)
    }

    @Test("Vars errors name the variable and point at it", arguments: [
        (["crit": VariableValue.lambda("TRUE")], "2:5: template variable \"measurement\" (string) has no value; the task must set it in vars"),
        (["measurement": .int(5), "crit": .lambda("TRUE")], "2:5: variable \"measurement\" is a string, but vars gives it an int"),
        (["measurement": .string("cpu"), "crit": .lambda("\"a\" >")],
         "4:5: the lambda vars gives \"crit\" does not parse: 1:6: expected an operand after \">\", found end of script"),
        (["measurement": .string("cpu"), "crit": .lambda("TRUE"), "data": .string("x")],
         "7:5: variable \"data\" cannot be set through vars: its value is not a literal, lambda or list"),
        (["measurement": .string("cpu"), "crit": .lambda("TRUE"), "nope": .int(1)],
         "1:1: vars sets \"nope\", which the script does not define"),
        (["measurement": .string("cpu"), "crit": .lambda("TRUE"), "groups": .list([.int(1)])],
         "6:5: the list vars gives \"groups\" holds an int; lists hold strings and *"),
    ])
    func errors(vars: [String: VariableValue], expected: String) throws {
        let program = try Program.parse(Self.template)
        #expect(throws: ScriptError.self) { try program.applying(vars: vars) }
        do {
            _ = try program.applying(vars: vars)
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test("Literal types: negated numbers keep their type, pipelines have none")
    func literalTypes() throws {
        #expect(try Program.parseLambda("-5m").literalType == .duration)
        #expect(try Program.parseLambda("-(2.5)").literalType == .float)
        #expect(try Program.parseLambda("\"a\" + 1").literalType == nil)
    }
}
