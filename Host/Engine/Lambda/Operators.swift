import TICKScript

/// Binary operators over lambda values, with Kapacitor's rules and messages.
enum Operators {
    static let typeHint = "see bool(), int(), float(), string(), duration()"

    /// A value of each static type, to check an operator's types at compile time by applying it.
    static func sample(_ t: LType) -> LValue? {
        switch t {
        case .float: .float(1)
        case .int: .int(1)
        case .string: .string("")
        case .bool: .bool(true)
        case .duration: .duration(1)
        case .time: .time(1)
        case .regex: sampleRegex.map { .regex($0) }
        case .unknown: nil
        }
    }

    private static let sampleRegex = try? CompiledRegex("")

    static func mismatched(_ op: BinaryOperator, _ a: LValue, _ b: LValue) -> LambdaError {
        LambdaError("mismatched type to binary operator. got \(a.type.description) \(op.rawValue) \(b.type.description). \(typeHint)")
    }

    static func invalid(_ op: BinaryOperator, _ t: LType) -> LambdaError {
        let kind = op.isMath ? "math" : (op == .and || op == .or) ? "logical" : "comparison"
        return LambdaError("invalid \(kind) operator \(op.rawValue) for type \(t.description)")
    }

    static func logicalError(_ op: BinaryOperator) -> LambdaError {
        LambdaError("invalid logical operator \(op.rawValue): both sides must be boolean")
    }

    static func compare<T: Comparable>(_ op: BinaryOperator, _ a: T, _ b: T) -> Bool? {
        switch op {
        case .equal: a == b
        case .notEqual: a != b
        case .less: a < b
        case .lessOrEqual: a <= b
        case .greater: a > b
        case .greaterOrEqual: a >= b
        default: nil
        }
    }

    static func binary(_ op: BinaryOperator, _ a: LValue, _ b: LValue) throws -> LValue {
        switch (a, b) {
        case (.float(let x), .float(let y)):
            if let c = compare(op, x, y) { return .bool(c) }
            switch op {
            case .add: return .float(x + y)
            case .subtract: return .float(x - y)
            case .multiply: return .float(x * y)
            case .divide: return .float(x / y)
            default: throw invalid(op, .float)
            }
        case (.int(let x), .int(let y)):
            if let c = compare(op, x, y) { return .bool(c) }
            switch op {
            case .add: return .int(x &+ y)
            case .subtract: return .int(x &- y)
            case .multiply: return .int(x &* y)
            case .divide:
                guard y != 0 else { throw LambdaError("integer division by zero") }
                return .int(x.dividedReportingOverflow(by: y).partialValue)
            case .modulo:
                guard y != 0 else { throw LambdaError("integer division by zero") }
                return .int(x.remainderReportingOverflow(dividingBy: y).partialValue)
            default: throw invalid(op, .int)
            }
        case (.int(let x), .float(let y)):
            if let c = compare(op, Double(x), y) { return .bool(c) }
            throw mismatched(op, a, b)
        case (.float(let x), .int(let y)):
            if let c = compare(op, x, Double(y)) { return .bool(c) }
            throw mismatched(op, a, b)
        case (.string(let x), .string(let y)):
            if let c = compare(op, x, y) { return .bool(c) }
            if op == .add { return .string(x + y) }
            throw invalid(op, .string)
        case (.bool(let x), .bool(let y)):
            switch op {
            case .equal: return .bool(x == y)
            case .notEqual: return .bool(x != y)
            case .and: return .bool(x && y)
            case .or: return .bool(x || y)
            default: throw invalid(op, .bool)
            }
        case (.duration(let x), .duration(let y)):
            if let c = compare(op, x, y) { return .bool(c) }
            switch op {
            case .add: return .duration(x &+ y)
            case .subtract: return .duration(x &- y)
            case .divide:
                guard y != 0 else { throw LambdaError("integer division by zero") }
                return .int(x / y)
            default: throw invalid(op, .duration)
            }
        case (.duration(let x), .int(let y)):
            switch op {
            case .multiply: return .duration(x &* y)
            case .divide:
                guard y != 0 else { throw LambdaError("integer division by zero") }
                return .duration(x / y)
            default: throw mismatched(op, a, b)
            }
        case (.int(let x), .duration(let y)):
            if op == .multiply { return .duration(x &* y) }
            throw mismatched(op, a, b)
        case (.time(let x), .time(let y)):
            if let c = compare(op, x, y) { return .bool(c) }
            if op == .subtract { return .duration(x &- y) }
            throw invalid(op, .time)
        case (.time(let x), .duration(let y)):
            switch op {
            case .add: return .time(x &+ y)
            case .subtract: return .time(x &- y)
            default: throw mismatched(op, a, b)
            }
        case (.string(let s), .regex(let r)):
            switch op {
            case .regexMatch: return .bool(r.matches(s))
            case .regexNotMatch: return .bool(!r.matches(s))
            default: throw mismatched(op, a, b)
            }
        default:
            if a.type == b.type { throw invalid(op, a.type) }
            throw mismatched(op, a, b)
        }
    }
}
