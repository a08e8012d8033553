import Engine
import TockModel

/// A topic handler, as Kapacitor's `services/alert` `HandlerSpec`: it receives the events published to `topic`
/// that its `match` expression selects, and hands them to a handler of `kind` with `options`.
///
/// `kind` is an alert service's kind (`slack`, `log`, `exec`, …), a notifier plugin (`notify` or the plugin's name),
/// or one of Kapacitor's two topic-only kinds: `aggregate` (options `interval`, `topic`, `message`, `id`) and
/// `publish` (option `topics`).
public struct TopicHandlerSpec: Sendable, Hashable {
    public var topic: String
    public var id: String
    public var kind: String
    public var options: [String: HandlerOption]
    /// A lambda-like expression over the event (`changed() == TRUE`, `level() >= WARNING`, `"host" == 'a'`); empty
    /// selects every event.
    public var match: String

    public init(topic: String, id: String, kind: String, options: [String: HandlerOption] = [:], match: String = "") {
        self.topic = topic
        self.id = id
        self.kind = kind
        self.options = options
        self.match = match
    }

    /// Kapacitor's `HandlerSpec.Validate`: a topic of letters, digits, `-`, `:`, `.` and `_`; a handler ID of the same
    /// without `:`; a kind.
    public func validate() throws(TopicHandlerError) {
        func allowed(_ text: String, colon: Bool) -> Bool {
            !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "-._".contains($0) || (colon && $0 == ":") }
        }
        guard allowed(topic, colon: true) else {
            throw TopicHandlerError("handler topic must contain only letters, numbers, '-', ':', '.' and '_'. \(GoQuote.quote(topic))")
        }
        guard allowed(id, colon: false) else {
            throw TopicHandlerError("handler ID must contain only letters, numbers, '-', '.' and '_'. \(GoQuote.quote(id))")
        }
        guard !kind.isEmpty else { throw TopicHandlerError("handler Kind must not be empty") }
    }
}

/// A topic handler that cannot be defined: a bad ID, an unknown kind, options its kind refuses, a bad match expression.
public struct TopicHandlerError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Go's `%q` for the plain strings of IDs.
enum GoQuote {
    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
