/// JSON Patch (RFC 6902) over ``JSON`` documents, as Kapacitor applies it to a topic handler (`evanphx/json-patch`):
/// `add`, `remove`, `replace`, `move`, `copy` and `test`, with JSON Pointers (RFC 6901).
enum JSONPatch {
    /// One operation that cannot be read or applied: the message names the operation and the path.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// The operations of a patch document: a JSON array of objects with `op` and `path`.
    static func operations(_ patch: JSON) throws(Failure) -> [JSON] {
        guard let ops = patch.arrayValue else { throw Failure("a JSON patch must be an array of operations") }
        for (i, op) in ops.enumerated() {
            guard op.objectValue != nil else { throw Failure("operation \(i) is not an object") }
            guard let name = op["op"]?.stringValue else { throw Failure("operation \(i) has no \"op\"") }
            guard ["add", "remove", "replace", "move", "copy", "test"].contains(name) else {
                throw Failure("operation \(i): unknown op \"\(name)\" (add, remove, replace, move, copy or test)")
            }
            guard op["path"]?.stringValue != nil else { throw Failure("operation \(i) (\(name)) has no \"path\"") }
            if ["add", "replace", "test"].contains(name), op["value"] == nil {
                throw Failure("operation \(i) (\(name)) has no \"value\"")
            }
            if ["move", "copy"].contains(name), op["from"]?.stringValue == nil {
                throw Failure("operation \(i) (\(name)) has no \"from\"")
            }
        }
        return ops
    }

    /// `document` with every operation applied in order; all or nothing.
    static func apply(_ ops: [JSON], to document: JSON) throws(Failure) -> JSON {
        var doc = document
        for op in ops {
            let name = op["op"]!.stringValue!, path = op["path"]!.stringValue!
            let tokens = try pointer(path)
            switch name {
            case "add": doc = try add(doc, tokens, op["value"]!, path: path)
            case "remove": doc = try remove(doc, tokens, path: path).0
            case "replace":
                _ = try get(doc, tokens, path: path)
                // An object member is replaced where it stands; an array element is removed, then inserted.
                if case .array = try get(doc, Array(tokens.dropLast()), path: path) {
                    doc = try remove(doc, tokens, path: path).0
                }
                doc = try add(doc, tokens, op["value"]!, path: path)
            case "move":
                let from = op["from"]!.stringValue!
                let (rest, value) = try remove(doc, try pointer(from), path: from)
                doc = try add(rest, tokens, value, path: path)
            case "copy":
                let from = op["from"]!.stringValue!
                doc = try add(doc, tokens, try get(doc, try pointer(from), path: from), path: path)
            default:
                guard try get(doc, tokens, path: path) == op["value"]! else { throw Failure("test failed at \(path)") }
            }
        }
        return doc
    }

    static func pointer(_ path: String) throws(Failure) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw Failure("invalid JSON pointer \"\(path)\": it must start with /") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ doc: JSON, _ tokens: [String], path: String) throws(Failure) -> JSON {
        var current = doc
        for token in tokens {
            switch current {
            case .object(let members):
                guard let v = members.first(where: { $0.0 == token })?.1 else { throw Failure("path \(path) does not exist") }
                current = v
            case .array(let items):
                guard let i = Int(token), items.indices.contains(i) else { throw Failure("path \(path) does not exist") }
                current = items[i]
            default: throw Failure("path \(path) does not exist")
            }
        }
        return current
    }

    static func add(_ doc: JSON, _ tokens: [String], _ value: JSON, path: String) throws(Failure) -> JSON {
        guard let first = tokens.first else { return value }
        let rest = Array(tokens.dropFirst())
        switch doc {
        case .object(var members):
            if rest.isEmpty {
                if let i = members.firstIndex(where: { $0.0 == first }) { members[i].1 = value } else { members.append((first, value)) }
            } else {
                guard let i = members.firstIndex(where: { $0.0 == first }) else { throw Failure("path \(path) does not exist") }
                members[i].1 = try add(members[i].1, rest, value, path: path)
            }
            return .object(members)
        case .array(var items):
            if rest.isEmpty {
                let i = first == "-" ? items.count : Int(first) ?? -1
                guard (0...items.count).contains(i) else { throw Failure("index \(first) out of range at \(path)") }
                items.insert(value, at: i)
            } else {
                guard let i = Int(first), items.indices.contains(i) else { throw Failure("path \(path) does not exist") }
                items[i] = try add(items[i], rest, value, path: path)
            }
            return .array(items)
        default:
            throw Failure("path \(path) does not exist")
        }
    }

    /// The document without the value at `tokens`, and that value.
    static func remove(_ doc: JSON, _ tokens: [String], path: String) throws(Failure) -> (JSON, JSON) {
        guard let first = tokens.first else { throw Failure("cannot remove the whole document") }
        let rest = Array(tokens.dropFirst())
        switch doc {
        case .object(var members):
            guard let i = members.firstIndex(where: { $0.0 == first }) else { throw Failure("path \(path) does not exist") }
            if rest.isEmpty {
                let removed = members.remove(at: i).1
                return (.object(members), removed)
            }
            let (inner, removed) = try remove(members[i].1, rest, path: path)
            members[i].1 = inner
            return (.object(members), removed)
        case .array(var items):
            guard let i = Int(first), items.indices.contains(i) else { throw Failure("path \(path) does not exist") }
            if rest.isEmpty {
                let removed = items.remove(at: i)
                return (.array(items), removed)
            }
            let (inner, removed) = try remove(items[i], rest, path: path)
            items[i] = inner
            return (.array(items), removed)
        default:
            throw Failure("path \(path) does not exist")
        }
    }
}
