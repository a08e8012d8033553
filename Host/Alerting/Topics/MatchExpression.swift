import Engine
import TICKScript
import TockModel

/// A topic handler's `match` expression, as Kapacitor's match handler reads it (`services/alert/handlers.go`).
///
/// The expression is a TICKscript lambda body: `"name"` references an event tag, `OK`, `INFO`, `WARNING` and
/// `CRITICAL` are the levels as integers, and five functions read the event: `changed()` (its level differs from the
/// previous one in the topic), `level()` (an integer), `name()` (the measurement), `taskName()` and `duration()`
/// (a duration). The engine's lambda functions (`strContains`, `abs`, …) work as in a script.
public struct MatchExpression: Sendable, Hashable {
    /// The text as the handler gives it.
    public let source: String
    private let expression: Expression

    /// What the event gives the functions of a match expression.
    public struct Subject: Sendable {
        public var changed: Bool
        public var level: AlertLevel
        public var name: String
        public var taskName: String
        public var duration: Int64
        public var tags: Tags

        public init(changed: Bool, level: AlertLevel, name: String, taskName: String, duration: Int64, tags: Tags) {
            self.changed = changed
            self.level = level
            self.name = name
            self.taskName = taskName
            self.duration = duration
            self.tags = tags
        }
    }

    /// Parses and checks `source`; the error names the line:column at fault.
    public init(_ source: String) throws(TopicHandlerError) {
        self.source = source
        do {
            expression = try Program.parseLambda(source)
            // Compile once with stand-in values, so that unknown functions and type errors are refused now.
            let probe = try Self.substitute(expression, Subject(changed: false, level: .ok, name: "", taskName: "", duration: 0, tags: Tags()))
            _ = try Lambda(probe)
        } catch let error as ScriptError {
            throw TopicHandlerError("invalid match expression: \(error.description)")
        } catch {
            throw TopicHandlerError("invalid match expression: \(error)")
        }
    }

    /// Whether `subject` matches. Throws when the expression fails on it (a tag it does not have, a non-boolean result).
    public func matches(_ subject: Subject) throws -> Bool {
        let lambda = try Lambda(Self.substitute(expression, subject))
        return try lambda.evaluateBool(time: 0, fields: Fields(), tags: subject.tags)
    }

    static let levels: [String: AlertLevel] = ["OK": .ok, "INFO": .info, "WARNING": .warning, "CRITICAL": .critical]

    /// The expression with the event's functions and the level names replaced by literals.
    static func substitute(_ e: Expression, _ s: Subject) throws(ScriptError) -> Expression {
        var out = e
        switch e.kind {
        case .identifier(let name):
            guard let level = levels[name] else {
                throw ScriptError("unknown identifier \"\(name)\" (a match expression knows OK, INFO, WARNING and CRITICAL)", at: e.position)
            }
            out.kind = .int(Int64(level.rawValue))
        case .call(let function, let arguments):
            let value: Expression.Kind?
            switch function {
            case "changed": value = .bool(s.changed)
            case "level": value = .int(Int64(s.level.rawValue))
            case "name": value = .string(s.name, tripleQuoted: false)
            case "taskName": value = .string(s.taskName, tripleQuoted: false)
            case "duration": value = .duration(nanoseconds: s.duration, literal: GoDuration.format(s.duration))
            default: value = nil
            }
            if let value {
                guard arguments.isEmpty else { throw ScriptError("\(function) takes no arguments", at: e.position) }
                out.kind = value
            } else {
                var args: [Expression] = []
                for a in arguments { args.append(try substitute(a, s)) }
                out.kind = .call(function: function, arguments: args)
            }
        case .unary(let op, let operand):
            out.kind = .unary(op, try substitute(operand, s))
        case .binary(let op, let l, let r):
            out.kind = .binary(op, try substitute(l, s), try substitute(r, s))
        case .parenthesized(let inner):
            out.kind = .parenthesized(try substitute(inner, s))
        case .lambda(let inner):
            out.kind = .lambda(try substitute(inner, s))
        default:
            break
        }
        return out
    }
}
