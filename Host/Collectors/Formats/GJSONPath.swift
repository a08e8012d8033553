import Foundation
import TockModel

/// GJSON paths (github.com/tidwall/gjson, `SYNTAX.md`), as Telegraf's json parser reads `json_query`: keys separated by
/// `.` or `|` (`\` escapes a special character; `*` and `?` are wildcards in a key), array indexes (`items.0`), `#` for
/// an array's length at the end of a path, and `#` followed by more of the path to collect that path from every
/// element (`items.#.value`); queries, `#(path op value)` for the first matching element and `#(…)#` for all of them,
/// with `==` (or `=`), `!=`, `<`, `<=`, `>`, `>=`, `%` (like, `*` and `?`) and `!%`, `~true`, `~false`, `~null` and `~*`
/// to compare a value's truthiness, nested queries, and a bare `#(%"a*")` to test the elements themselves; and the
/// modifiers `@reverse`, `@flatten` (`@flatten:{"deep":true}`), `@this`, `@valid`, `@ugly`, `@pretty` and `@fromstr`.
///
/// Multipaths join paths into a new array (`[name.first,age]`: the values found, in order) or object
/// (`{name.first,"n":age}`: each value under its given key, or else its path's last key); literals (`!true`, `!"USA"`,
/// `!{"a":1}`) give their own JSON value, so `{name.first,"adult":!true}` adds a constant member.
///
/// After `#` or `#(…)#`, a `.` applies the rest of the path to each element and a `|` to the array itself. Objects are
/// read without their members' order, so `@reverse` leaves an object as it is (the json format's fields do not depend
/// on it) and the order-dependent modifiers (`@keys`, `@values`, `@join`, `@tostr`) are refused by ``problem(_:)``.
enum GJSONPath {
    /// The value at `path` in `value`, or `nil` when nothing matches (or the path cannot be read).
    static func select(_ path: String, in value: JSONValue) -> JSONValue? {
        guard let components = try? parse(path) else { return nil }
        return select(components[...], in: value)
    }

    /// Why `path` cannot be used, or `nil` when it can.
    static func problem(_ path: String) -> String? {
        do { _ = try parse(path); return nil } catch { return error.message }
    }

    struct Failure: Error { var message: String }

    /// A query's test: the value at `path` in an element (the element itself when empty) against `value` by `op`.
    struct Query: Hashable {
        var path: [Component]
        /// `=`, `!=`, `<`, `<=`, `>`, `>=`, `%`, `!%`, or empty to test that the value exists.
        var op: String
        /// The right-hand side, unquoted; `~true`… keep their tilde.
        var value: String
    }

    enum Step: Hashable {
        case key(String, wild: Bool)
        /// `#`: the length at the end of a path, else each element.
        case each
        case query(Query, all: Bool)
        case modifier(String, argument: String)
        /// `[a,b]` (an array) or `{a,"k":b}` (an object): each path's value, under its key in an object.
        case multipath([MultipathMember], object: Bool)
        /// `!true`, `!"text"`, `!{…}`: a JSON value of its own.
        case literal(JSONValue)
    }

    struct MultipathMember: Hashable {
        var key: String
        var path: [Component]
    }

    struct Component: Hashable {
        var step: Step
        /// Whether `|` (not `.`) came before it.
        var piped: Bool
    }

    static let modifiers: Set<String> = ["reverse", "flatten", "this", "valid", "ugly", "pretty", "fromstr"]
    /// GJSON's other built-in modifiers, refused (they depend on the members' order, or make JSON text). Any other
    /// `@name` is a key, as in GJSON (`@timestamp`).
    static let unsupportedModifiers: Set<String> = ["keys", "values", "join", "tostr", "group", "dig"]

    static func modifierName(_ chars: [Character], at start: Int) -> String {
        var name = ""
        var i = start
        while i < chars.count && chars[i] != ":" && chars[i] != "." && chars[i] != "|" { name.append(chars[i]); i += 1 }
        return name
    }

    // MARK: reading a path

    static func parse(_ path: String) throws(Failure) -> [Component] {
        let chars = Array(path)
        var components: [Component] = []
        var i = 0
        var piped = false
        while i <= chars.count {
            let step: Step
            if i < chars.count && (chars[i] == "[" || chars[i] == "{") {
                let close = try closing(chars, from: i)
                step = .multipath(try members(chars, from: i + 1, to: close), object: chars[i] == "{")
                i = close + 1
                guard i == chars.count || chars[i] == "." || chars[i] == "|" else {
                    throw Failure(message: "unexpected \"\(chars[i])\" after a multipath in \"\(path)\"")
                }
            } else if i < chars.count && chars[i] == "!" {
                let end = try literalEnd(chars, from: i + 1)
                let text = String(chars[(i + 1)..<end])
                guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                    throw Failure(message: "\"!\(text)\" in \"\(path)\" is not a JSON literal (!true, !false, !null, !12, !\"text\", ![…], !{…})")
                }
                step = .literal(value)
                i = end
                guard i == chars.count || chars[i] == "." || chars[i] == "|" else {
                    throw Failure(message: "unexpected \"\(chars[i])\" after a literal in \"\(path)\"")
                }
            } else if i < chars.count && chars[i] == "#" && i + 1 < chars.count && chars[i + 1] == "(" {
                let close = try closing(chars, from: i + 1)
                let query = try parseQuery(String(chars[(i + 2)..<close]))
                i = close + 1
                var all = false
                if i < chars.count && chars[i] == "#" { all = true; i += 1 }
                guard i == chars.count || chars[i] == "." || chars[i] == "|" else {
                    throw Failure(message: "unexpected \"\(chars[i])\" after a query in \"\(path)\"")
                }
                step = .query(query, all: all)
            } else if i < chars.count && chars[i] == "@", case let name = modifierName(chars, at: i + 1),
                      modifiers.contains(name) || unsupportedModifiers.contains(name) {
                i += 1 + name.count
                var argument = ""
                if i < chars.count && chars[i] == ":" {
                    i += 1
                    let start = i
                    if i < chars.count && (chars[i] == "{" || chars[i] == "[") {
                        i = try closing(chars, from: i) + 1
                    } else {
                        while i < chars.count && chars[i] != "." && chars[i] != "|" { i += 1 }
                    }
                    argument = String(chars[start..<i])
                }
                guard modifiers.contains(name) else {
                    throw Failure(message: "the GJSON modifier @\(name) is not supported by Tock (supported: "
                                  + modifiers.sorted().map { "@" + $0 }.joined(separator: ", ") + ")")
                }
                step = .modifier(name, argument: argument)
            } else {
                var key = ""
                var wild = false
                while i < chars.count && chars[i] != "." && chars[i] != "|" {
                    if chars[i] == "\\" && i + 1 < chars.count {
                        key.append(chars[i + 1])
                        i += 2
                        continue
                    }
                    if chars[i] == "*" || chars[i] == "?" { wild = true }
                    key.append(chars[i])
                    i += 1
                }
                step = key == "#" ? .each : .key(key, wild: wild)
            }
            components.append(Component(step: step, piped: piped))
            guard i < chars.count else { break }
            piped = chars[i] == "|"
            i += 1
        }
        return components
    }

    /// The members of a multipath between `start` and `end` (the brackets excluded): paths separated by commas at the
    /// top level, each with an optional `"key":` (an object's member name; else the path's last key).
    static func members(_ chars: [Character], from start: Int, to end: Int) throws(Failure) -> [MultipathMember] {
        var members: [MultipathMember] = []
        var i = start
        while i < end {
            var key: String?
            if chars[i] == "\"" {
                var j = i + 1
                while j < end && chars[j] != "\"" { if chars[j] == "\\" { j += 1 }; j += 1 }
                if j + 1 < end && chars[j + 1] == ":" {
                    key = unquote(String(chars[(i + 1)..<j]))
                    i = j + 2
                }
            }
            // The member runs to the next comma outside brackets and quoted strings.
            let j = scan(chars, from: i, to: end) { c, depth in c == "," && depth == 0 } ?? end
            let text = String(chars[i..<j]).trimmingCharacters(in: .whitespaces)
            if !text.isEmpty {
                let path = try parse(text)
                members.append(MultipathMember(key: key ?? Self.lastKey(path, text), path: path))
            }
            i = j + 1
        }
        return members
    }

    /// GJSON's name for a multipath member without a key: its path's last plain key, else the path as written.
    static func lastKey(_ path: [Component], _ text: String) -> String {
        if case .key(let key, _) = path.last?.step { return key }
        return text
    }

    /// Where a literal starting at `start` ends: past a quoted string or a bracketed value, else at the next `.`
    /// (not inside a number), `|`, `,`, or the end.
    static func literalEnd(_ chars: [Character], from start: Int) throws(Failure) -> Int {
        guard start < chars.count else { return start }
        if chars[start] == "{" || chars[start] == "[" { return try closing(chars, from: start) + 1 }
        var i = start
        if chars[i] == "\"" {
            i += 1
            while i < chars.count && chars[i] != "\"" { if chars[i] == "\\" { i += 1 }; i += 1 }
            return min(i + 1, chars.count)
        }
        let number = chars[i] == "-" || chars[i].isNumber
        while i < chars.count && chars[i] != "|" && chars[i] != "," && (chars[i] != "." || number) { i += 1 }
        return i
    }

    /// The index of the bracket closing the one at `open` (`(`, `{` or `[`), past nested ones and quoted strings.
    static func closing(_ chars: [Character], from open: Int) throws(Failure) -> Int {
        let isClosing: Set<Character> = [")", "}", "]"]
        guard let close = scan(chars, from: open, to: chars.count, until: { c, depth in depth == 0 && isClosing.contains(c) }) else {
            throw Failure(message: "unclosed \"\(chars[open])\" in \"\(String(chars))\"")
        }
        return close
    }

    /// The index of the first character in `start..<end` outside quoted strings for which `stop` is true, given the
    /// bracket depth after that character; `nil` when there is none.
    static func scan(_ chars: [Character], from start: Int, to end: Int, until stop: (Character, Int) -> Bool) -> Int? {
        var depth = 0
        var i = start
        var quoted = false
        while i < end {
            let c = chars[i]
            if quoted {
                if c == "\\" { i += 1 } else if c == "\"" { quoted = false }
            } else if c == "\"" {
                quoted = true
            } else {
                if c == "(" || c == "{" || c == "[" { depth += 1 } else if c == ")" || c == "}" || c == "]" { depth -= 1 }
                if stop(c, depth) { return i }
            }
            i += 1
        }
        return nil
    }

    /// `path op value`, the operator found outside nested queries and quoted strings.
    static func parseQuery(_ text: String) throws(Failure) -> Query {
        let chars = Array(text)
        var i = 0
        var depth = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\"" {
                i += 1
                while i < chars.count && chars[i] != "\"" { if chars[i] == "\\" { i += 1 }; i += 1 }
            } else if c == "(" || c == "[" || c == "{" {
                depth += 1
            } else if c == ")" || c == "]" || c == "}" {
                depth -= 1
            } else if depth == 0, "=!<>%".contains(c) {
                let next = i + 1 < chars.count ? chars[i + 1] : " "
                var op = String(c)
                var length = 1
                switch c {
                case "=": length = next == "=" ? 2 : 1; op = "="
                case "!":
                    guard next == "=" || next == "%" else { i += 1; continue }
                    op = "!" + String(next); length = 2
                case "<", ">": if next == "=" { op += "="; length = 2 }
                default: break
                }
                let path = String(chars[..<i]).trimmingCharacters(in: .whitespaces)
                var value = String(chars[(i + length)...]).trimmingCharacters(in: .whitespaces)
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = unquote(String(value.dropFirst().dropLast())) }
                return Query(path: path.isEmpty ? [] : try parse(path), op: op, value: value)
            }
            i += 1
        }
        let path = text.trimmingCharacters(in: .whitespaces)
        return Query(path: path.isEmpty ? [] : try parse(path), op: "", value: "")
    }

    /// A JSON string's escape sequences decoded (`\"`, `\\`, `\n`, `\uXXXX`…), leniently: an unknown escape
    /// keeps its character.
    static func unquote(_ text: String) -> String {
        var result = ""
        var chars = text.unicodeScalars.makeIterator()
        while let c = chars.next() {
            guard c == "\\", let e = chars.next() else { result.unicodeScalars.append(c); continue }
            switch e {
            case "n": result += "\n"
            case "t": result += "\t"
            case "r": result += "\r"
            case "b": result += "\u{8}"
            case "f": result += "\u{c}"
            case "u":
                var hex = ""
                for _ in 0..<4 { if let h = chars.next() { hex.unicodeScalars.append(h) } }
                if let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) { result.unicodeScalars.append(scalar) }
            default: result.unicodeScalars.append(e)
            }
        }
        return result
    }

    // MARK: selecting

    static func select(_ path: ArraySlice<Component>, in value: JSONValue) -> JSONValue? {
        guard let component = path.first else { return value }
        let rest = path.dropFirst()
        switch component.step {
        case .modifier(let name, let argument):
            return apply(name, argument, to: value).flatMap { select(rest, in: $0) }
        case .literal(let literal):
            return select(rest, in: literal)
        case .multipath(let members, let object):
            // A member that finds nothing is left out, as in GJSON.
            if object {
                var joined: [String: JSONValue] = [:]
                for member in members {
                    if let found = select(member.path[...], in: value) { joined[member.key] = found }
                }
                return select(rest, in: .object(joined))
            }
            return select(rest, in: .array(members.compactMap { select($0.path[...], in: value) }))
        case .key(let key, let wild):
            switch value {
            case .object(let object):
                if let exact = object[key] { return select(rest, in: exact) }
                // GJSON's wildcards: the first matching key in the document's order — here the sorted order, since
                // the decoder does not keep it.
                if wild, let match = object.keys.sorted().first(where: { Glob.matches(key, $0) }) { return select(rest, in: object[match]!) }
                return nil
            case .array(let elements):
                guard let index = Int(key), elements.indices.contains(index) else { return nil }
                return select(rest, in: elements[index])
            default:
                return nil
            }
        case .each:
            guard case .array(let elements) = value else { return nil }
            if rest.isEmpty { return .number(Double(elements.count)) }
            if rest.first!.piped { return select(rest, in: .number(Double(elements.count))) }
            return each(elements, rest)
        case .query(let query, let all):
            guard case .array(let elements) = value else { return nil }
            if !all {
                guard let first = elements.first(where: { matches(query, $0) }) else { return nil }
                return select(rest, in: first)
            }
            let found = elements.filter { matches(query, $0) }
            if let next = rest.first, !next.piped { return each(found, rest) }
            return select(rest, in: .array(found))
        }
    }

    /// GJSON's `#.path|more`: `path` (up to the first `|`) taken from every element that has it, then `more` from
    /// the array of those.
    static func each(_ elements: [JSONValue], _ rest: ArraySlice<Component>) -> JSONValue? {
        let pipe = rest.firstIndex { $0.piped } ?? rest.endIndex
        let mapped = JSONValue.array(elements.compactMap { select(rest[..<pipe], in: $0) })
        return select(rest[pipe...], in: mapped)
    }

    static func apply(_ name: String, _ argument: String, to value: JSONValue) -> JSONValue? {
        switch name {
        case "reverse":
            if case .array(let elements) = value { return .array(elements.reversed()) }
            return value
        case "flatten":
            guard case .array(let elements) = value else { return value }
            return .array(flatten(elements, deep: argument.replacingOccurrences(of: " ", with: "").contains("\"deep\":true")))
        case "fromstr":
            guard case .string(let text) = value else { return nil }
            return try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        default:
            // @this, @valid (the document was read, so it is valid), @ugly and @pretty (whitespace only).
            return value
        }
    }

    static func flatten(_ elements: [JSONValue], deep: Bool) -> [JSONValue] {
        elements.flatMap { element -> [JSONValue] in
            guard case .array(let inner) = element else { return [element] }
            return deep ? flatten(inner, deep: true) : inner
        }
    }

    /// GJSON's `queryMatches`.
    static func matches(_ query: Query, _ element: JSONValue) -> Bool {
        var value: JSONValue? = query.path.isEmpty ? element : select(query.path[...], in: element)
        var rhs = query.value
        if rhs.hasPrefix("~") {
            let ish: Bool?
            switch rhs.dropFirst() {
            case "*": ish = value != nil
            case "null": ish = value == nil || value == .null
            case "true": ish = value.map(trueish) ?? false
            case "false": ish = value.map(falseish) ?? true
            default: ish = nil
            }
            guard let ish else { return false }
            value = .bool(ish)
            rhs = "true"
        }
        guard let value else { return false }
        if query.op.isEmpty { return true }
        switch value {
        case .string(let s):
            let order = compare(s, rhs)
            switch query.op {
            case "=": return s == rhs
            case "!=": return s != rhs
            case "<": return order < 0
            case "<=": return order <= 0
            case ">": return order > 0
            case ">=": return order >= 0
            case "%": return Glob.matches(rhs, s)
            case "!%": return !Glob.matches(rhs, s)
            default: return false
            }
        case .number(let n):
            let r = Double(rhs) ?? 0
            switch query.op {
            case "=": return n == r
            case "!=": return n != r
            case "<": return n < r
            case "<=": return n <= r
            case ">": return n > r
            case ">=": return n >= r
            default: return false
            }
        case .bool(true):
            switch query.op {
            case "=": return rhs == "true"
            case "!=": return rhs != "true"
            case ">": return rhs == "false"
            case ">=": return true
            default: return false
            }
        case .bool(false):
            switch query.op {
            case "=": return rhs == "false"
            case "!=": return rhs != "false"
            case "<": return rhs == "true"
            case "<=": return true
            default: return false
            }
        default:
            return false
        }
    }

    /// Go's byte-wise string order.
    static func compare(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        if x == y { return 0 }
        return x.lexicographicallyPrecedes(y) ? -1 : 1
    }

    static func trueish(_ value: JSONValue) -> Bool {
        switch value {
        case .bool(let b): b
        case .string(let s): goBool(s) == true
        case .number(let n): n != 0
        default: false
        }
    }

    static func falseish(_ value: JSONValue) -> Bool {
        switch value {
        case .null, .bool(false): true
        case .string(let s): goBool(s) == false
        case .number(let n): n == 0
        default: false
        }
    }

    /// Go's `strconv.ParseBool` of the lower-cased text.
    static func goBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "t", "true": true
        case "0", "f", "false": false
        default: nil
        }
    }
}
