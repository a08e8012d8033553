/// An alert template (`.id()`, `.message()`, `.details()`), parsed when the task is defined.
///
/// Implements the part of Go's `text/template` that alert scripts use: fields and map keys
/// (`{{ .Name }}`, `{{ .Tags.host }}`), variables, pipelines, parentheses, `if`/`else if`/`else`,
/// `range` and `with`, and the functions `index len print printf println eq ne lt le gt ge and or not
/// html js urlquery` (plus `json` in details). `details` is HTML-escaped as `html/template` does in
/// text. `define`, `template` and `block` are refused when the script is defined.
struct AlertTemplate: Sendable {
    enum Kind: Sendable, Hashable {
        case id, message, details
        /// httpPost's URL and row templates (Kapacitor's mappedRow); `json` only in templates given as text,
        /// as Kapacitor's httppost.GetTemplate adds it only there.
        case row, rowFromFile
        /// An alert service's template over event data (``EventTemplate``): the Go type, its fields, and whether
        /// the `json` function is defined.
        case event(typeName: String, fields: [String], json: Bool)

        /// The fields of the data each template sees (Kapacitor's idInfo, messageInfo, detailsInfo).
        var rootFields: [String] {
            switch self {
            case .id: ["Name", "TaskName", "Group", "Tags", "ServerInfo"]
            case .message: ["Name", "TaskName", "Group", "Tags", "ServerInfo", "ID", "Fields", "Level", "Time", "Duration"]
            case .details: ["Name", "TaskName", "Group", "Tags", "ServerInfo", "ID", "Fields", "Level", "Time", "Duration", "Message"]
            case .row, .rowFromFile: ["Name", "Tags", "Values"]
            case .event(_, let fields, _): fields
            }
        }

        var goTypeName: String {
            switch self {
            case .id: "kapacitor.idInfo"
            case .message: "kapacitor.messageInfo"
            case .details: "kapacitor.detailsInfo"
            case .row, .rowFromFile: "*kapacitor.mappedRow"
            case .event(let typeName, _, _): typeName
            }
        }
    }

    static let functions: Set<String> = [
        "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "index", "len",
        "print", "printf", "println", "html", "js", "urlquery",
    ]

    let name: String
    let kind: Kind
    let source: String
    private let nodes: [TemplateNode]
    /// Whether the output depends on nothing but the measurement and the group (and the task and
    /// server), so an ID can be rendered once per group.
    let dependsOnlyOnNameAndGroup: Bool

    init(name: String, source: String, kind: Kind) throws(TemplateError) {
        self.name = name
        self.kind = kind
        self.source = source
        var functions = Self.functions
        if kind == .details || kind == .row { functions.insert("json") }
        if case .event(_, _, true) = kind { functions.insert("json") }
        var parser = TemplateParser(name: name, source: source, functions: functions)
        nodes = try parser.parse()
        var usage = Usage()
        try Self.check(nodes, dotIsRoot: true, (name, kind), &usage)
        dependsOnlyOnNameAndGroup = !usage.opaque && usage.fields.isSubset(of: ["Name", "Group", "TaskName", "ServerInfo"])
    }

    /// Renders the template with `data` (a record holding ``Kind/rootFields``).
    func render(_ data: TemplateValue) throws(TemplateError) -> String {
        var execution = TemplateExecution(name: name, escapeHTML: kind == .details, root: data)
        var out = ""
        try execution.run(nodes, dot: data, into: &out)
        return out
    }

    // MARK: Define-time checks of field names

    /// What a template reads of its data: the root fields named, and whether it reads dot as a whole
    /// (`{{ . }}`, `{{ json . }}`) or through `range`/`with`.
    private struct Usage {
        var fields: Set<String> = []
        var opaque = false
    }

    private static func check(_ nodes: [TemplateNode], dotIsRoot: Bool, _ t: (name: String, kind: Kind), _ usage: inout Usage) throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text: break
            case .action(let p): try check(p, dotIsRoot, t, &usage)
            case .conditional(let p, let then, let otherwise):
                try check(p, dotIsRoot, t, &usage)
                try check(then, dotIsRoot: dotIsRoot, t, &usage)
                try check(otherwise ?? [], dotIsRoot: dotIsRoot, t, &usage)
            case .range(let p, _, _, let body, let otherwise), .with(let p, let body, let otherwise):
                try check(p, dotIsRoot, t, &usage)
                try check(body, dotIsRoot: false, t, &usage)
                try check(otherwise ?? [], dotIsRoot: dotIsRoot, t, &usage)
                usage.opaque = true
            }
        }
    }

    private static func check(_ pipe: TemplatePipeline, _ dotIsRoot: Bool, _ t: (name: String, kind: Kind), _ usage: inout Usage) throws(TemplateError) {
        for command in pipe.commands {
            for operand in command.arguments {
                switch operand {
                case .field(let chain) where dotIsRoot:
                    try checkRoot(chain, t, &usage)
                case .variable("$", let chain):
                    try checkRoot(chain, t, &usage)
                case .pipeline(let inner, _):
                    try check(inner, dotIsRoot, t, &usage)
                default:
                    break
                }
            }
        }
    }

    private static func checkRoot(_ chain: [String], _ t: (name: String, kind: Kind), _ usage: inout Usage) throws(TemplateError) {
        guard let first = chain.first else {
            usage.opaque = true
            return
        }
        usage.fields.insert(first)
        if !t.kind.rootFields.contains(first) {
            throw TemplateError(
                template: t.name, line: nil,
                message: "can't evaluate field \(first) in type \(t.kind.goTypeName) (available: \(t.kind.rootFields.map { "." + $0 }.joined(separator: " ")))")
        }
    }
}

/// One rendering of a template: the variables in scope and the output escaping.
struct TemplateExecution {
    let name: String
    let escapeHTML: Bool
    var variables: [(name: String, value: TemplateValue)]

    init(name: String, escapeHTML: Bool, root: TemplateValue) {
        self.name = name
        self.escapeHTML = escapeHTML
        variables = [("$", root)]
    }

    private func fail(_ message: String) -> TemplateError {
        TemplateError(template: name, line: nil, message: "executing \"\(name)\": \(message)")
    }

    mutating func run(_ nodes: [TemplateNode], dot: TemplateValue, into out: inout String) throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text(let t):
                out += t
            case .action(let pipe):
                let v = try eval(pipe, dot: dot)
                if pipe.declarations.isEmpty { write(v, to: &out) }
            case .conditional(let pipe, let then, let otherwise):
                let mark = variables.count
                let v = try eval(pipe, dot: dot)
                if v.isTruthy {
                    try run(then, dot: dot, into: &out)
                } else if let otherwise {
                    try run(otherwise, dot: dot, into: &out)
                }
                variables.removeSubrange(mark...)
            case .with(let pipe, let body, let otherwise):
                let mark = variables.count
                let v = try eval(pipe, dot: dot)
                if v.isTruthy {
                    try run(body, dot: v, into: &out)
                } else if let otherwise {
                    try run(otherwise, dot: dot, into: &out)
                }
                variables.removeSubrange(mark...)
            case .range(let pipe, let key, let value, let body, let otherwise):
                let mark = variables.count
                let v = try eval(pipe, dot: dot)
                let items: [(TemplateValue, TemplateValue)]
                switch v {
                case .stringMap(let m): items = m.map { (.string($0.key), .string($0.value)) }
                case .anyMap(let m): items = m.map { (.string($0.key), $0.value) }
                case .int(let n): items = (0..<max(0, n)).map { (.int($0), .int($0)) }
                case .list(_, let list): items = list.enumerated().map { (.int(Int64($0.offset)), $0.element) }
                case .null: items = []
                default: throw fail("range can't iterate over \(v.goString)")
                }
                if items.isEmpty {
                    if let otherwise { try run(otherwise, dot: dot, into: &out) }
                } else {
                    for (k, item) in items {
                        let inner = variables.count
                        if let key { variables.append((key, k)) }
                        if let value { variables.append((value, item)) }
                        try run(body, dot: item, into: &out)
                        variables.removeSubrange(inner...)
                    }
                }
                variables.removeSubrange(mark...)
            }
        }
    }

    private func write(_ v: TemplateValue, to out: inout String) {
        let text: String
        if case .null = v {
            // text/template prints a missing value as "<no value>"; html/template's escaper drops nil.
            text = escapeHTML ? "" : "<no value>"
        } else {
            text = v.goString
        }
        out += escapeHTML ? GoFormat.htmlEscape(text) : text
    }

    private mutating func eval(_ pipe: TemplatePipeline, dot: TemplateValue) throws(TemplateError) -> TemplateValue {
        var value: TemplateValue? = nil
        for command in pipe.commands {
            value = try eval(command, dot: dot, piped: value)
        }
        let result = value ?? .null
        for name in pipe.declarations {
            if pipe.isAssignment {
                guard let i = variables.lastIndex(where: { $0.name == name }) else { throw fail("undefined variable: \(name)") }
                variables[i].value = result
            } else {
                variables.append((name, result))
            }
        }
        return result
    }

    private mutating func eval(_ command: TemplateCommand, dot: TemplateValue, piped: TemplateValue?) throws(TemplateError) -> TemplateValue {
        guard let first = command.arguments.first else { return .null }
        if case .function(let fn) = first {
            return try call(fn, Array(command.arguments.dropFirst()), dot: dot, piped: piped)
        }
        if command.arguments.count > 1 || piped != nil {
            return try callMethod(first, Array(command.arguments.dropFirst()), dot: dot, piped: piped)
        }
        return try operand(first, dot: dot)
    }

    private mutating func operand(_ op: TemplateOperand, dot: TemplateValue) throws(TemplateError) -> TemplateValue {
        switch op {
        case .field(let chain): return try resolve(dot, chain)
        case .variable(let name, let chain):
            guard let v = variables.last(where: { $0.name == name })?.value else { throw fail("undefined variable: \(name)") }
            return try resolve(v, chain)
        case .pipeline(let pipe, let chain): return try resolve(try eval(pipe, dot: dot), chain)
        case .function(let fn): return try call(fn, [], dot: dot, piped: nil)
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .bool(let b): return .bool(b)
        case .null: return .null
        }
    }

    /// A method with arguments at the end of a chain: only `Time.Format layout` (`{{ .Time.Format "15:04" }}`).
    private mutating func callMethod(_ target: TemplateOperand, _ operands: [TemplateOperand], dot: TemplateValue, piped: TemplateValue?) throws(TemplateError) -> TemplateValue {
        var args: [TemplateValue] = []
        for op in operands { args.append(try operand(op, dot: dot)) }
        if let piped { args.append(piped) }
        let receiver: TemplateValue
        let method: String
        switch target {
        case .field(let chain) where !chain.isEmpty:
            receiver = try resolve(dot, Array(chain.dropLast()))
            method = chain.last!
        case .variable(let name, let chain) where !chain.isEmpty:
            guard let v = variables.last(where: { $0.name == name })?.value else { throw fail("undefined variable: \(name)") }
            receiver = try resolve(v, Array(chain.dropLast()))
            method = chain.last!
        default:
            throw fail("can't give argument to non-function \(describe(target))")
        }
        if case .time(let t) = receiver, method == "Format" {
            guard args.count == 1, case .string(let layout) = args[0] else {
                throw fail("wrong arguments for Time.Format: want one layout string")
            }
            return .string(GoTimeFormat.format(t, layout: layout))
        }
        throw fail("can't give argument to non-function \(describe(target))")
    }

    private func resolve(_ value: TemplateValue, _ chain: [String]) throws(TemplateError) -> TemplateValue {
        var v = value
        for name in chain {
            guard let next = v.member(name) else {
                if case .null = v { throw fail("nil pointer evaluating interface {}.\(name)") }
                throw fail("can't evaluate field \(name) in type \(v.goTypeName)")
            }
            v = next
        }
        return v
    }

    private func describe(_ op: TemplateOperand) -> String {
        switch op {
        case .field(let c): "." + c.joined(separator: ".")
        case .variable(let n, let c): ([n] + c).joined(separator: ".")
        default: "operand"
        }
    }

    private mutating func call(_ fn: String, _ operands: [TemplateOperand], dot: TemplateValue, piped: TemplateValue?) throws(TemplateError) -> TemplateValue {
        // `and` and `or` stop at the first argument that decides, as Go's do.
        if fn == "and" || fn == "or" {
            var last: TemplateValue = .null
            let count = operands.count + (piped == nil ? 0 : 1)
            guard count >= 1 else { throw fail("wrong number of args for \(fn): want at least 1 got 0") }
            for i in 0..<count {
                last = i < operands.count ? try operand(operands[i], dot: dot) : piped!
                if (fn == "and") != last.isTruthy { return last }
            }
            return last
        }
        var args: [TemplateValue] = []
        for op in operands { args.append(try operand(op, dot: dot)) }
        if let piped { args.append(piped) }
        func want(_ n: Int) throws(TemplateError) {
            if args.count != n { throw fail("wrong number of args for \(fn): want \(n) got \(args.count)") }
        }
        switch fn {
        case "not":
            try want(1)
            return .bool(!args[0].isTruthy)
        case "len":
            try want(1)
            switch args[0] {
            case .string(let s): return .int(Int64(s.utf8.count))
            case .stringMap(let m): return .int(Int64(m.count))
            case .anyMap(let m): return .int(Int64(m.count))
            case .list(_, let items): return .int(Int64(items.count))
            default: throw fail("error calling len: len of type \(args[0].goTypeName)")
            }
        case "index":
            guard var v = args.first else { throw fail("wrong number of args for index: want at least 1 got 0") }
            for key in args.dropFirst() {
                if case .list(_, let items) = v {
                    guard case .int(let i) = key else { throw fail("error calling index: cannot index slice/array with type \(key.goTypeName)") }
                    guard i >= 0, i < items.count else { throw fail("error calling index: index out of range: \(i)") }
                    v = items[Int(i)]
                    continue
                }
                guard case .string(let k) = key else { throw fail("error calling index: cannot index with \(key.goTypeName)") }
                switch v {
                case .stringMap(let m): v = .string(m.first { $0.key == k }?.value ?? "")
                case .anyMap(let m): v = m.first { $0.key == k }?.value ?? .null
                case .null: throw fail("error calling index: index of untyped nil")
                default: throw fail("error calling index: can't index item of type \(v.goTypeName)")
                }
            }
            return v
        case "print": return .string(GoFormat.sprint(args))
        case "println": return .string(GoFormat.sprintln(args))
        case "printf":
            guard case .string(let format)? = args.first else { throw fail("error calling printf: the format must be a string") }
            return .string(GoPrintf.format(format, Array(args.dropFirst())))
        case "html": return .string(GoFormat.htmlEscape(GoFormat.sprint(args), escapingPlus: false))
        case "js": return .string(GoFormat.jsEscape(GoFormat.sprint(args)))
        case "urlquery": return .string(GoFormat.queryEscape(GoFormat.sprint(args)))
        case "json":
            try want(1)
            var s = ""
            args[0].appendJSON(to: &s)
            return .string(s + "\n")
        case "eq":
            guard args.count >= 2 else { throw fail("wrong number of args for eq: want at least 2 got \(args.count)") }
            for other in args.dropFirst() where try compare(args[0], other, fn) == 0 { return .bool(true) }
            return .bool(false)
        case "ne", "lt", "le", "gt", "ge":
            try want(2)
            let c = try compare(args[0], args[1], fn)
            switch fn {
            case "ne": return .bool(c != 0)
            case "lt": return .bool(c < 0)
            case "le": return .bool(c <= 0)
            case "gt": return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        default:
            throw fail("function \"\(fn)\" not defined")
        }
    }

    /// Compares two basic values: numbers with numbers (ints and floats mix), strings, bools (equality only).
    private func compare(_ a: TemplateValue, _ b: TemplateValue, _ fn: String) throws(TemplateError) -> Int {
        func number(_ v: TemplateValue) -> Double? {
            switch v {
            case .int(let i): Double(i)
            case .uint(let u): Double(u)
            case .float(let f): f
            case .duration(let d): Double(d)
            default: nil
            }
        }
        switch (a, b) {
        case (.string(let x), .string(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.int(let x), .int(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.bool(let x), .bool(let y)) where fn == "eq" || fn == "ne": return x == y ? 0 : 1
        case (.null, .null) where fn == "eq" || fn == "ne": return 0
        default:
            if let x = number(a), let y = number(b) { return x < y ? -1 : (x == y ? 0 : 1) }
            throw fail("error calling \(fn): incompatible types for comparison (\(a.goTypeName) and \(b.goTypeName))")
        }
    }
}
