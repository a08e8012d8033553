import TockModel

/// `|log()`: writes each point or batch as its series JSON, at `.level()` (default INFO) with `.prefix()`,
/// and passes it on.
final class LogNode: Node {
    let level: LogLevel
    let prefix: String

    init(_ c: NodeConfiguration) throws {
        let name = (c.string("level") ?? "INFO").uppercased()
        switch name {
        case "DEBUG": level = .debug
        case "INFO": level = .info
        case "WARN", "WARNING": level = .warning
        case "ERROR": level = .error
        default: throw NodeConfigurationError("invalid log level \"\(name)\": use DEBUG, INFO, WARN or ERROR")
        }
        prefix = c.string("prefix") ?? ""
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        output.log(level, (prefix.isEmpty ? "" : prefix + " ") + Series.json(message))
        output.emit(message)
    }
}

/// `|httpOut(endpoint)`: keeps the last point or batch of each group and publishes the whole result
/// `{"series":[…]}` (groups in first-seen order) on every update; passes data on.
final class HTTPOutNode: Node {
    let endpoint: String
    private var index: [GroupID: Int] = [:]
    /// Each group's row, already encoded: an update re-encodes one row and joins the rest.
    private var rows: [String] = []

    init(_ c: NodeConfiguration) {
        if case .string(let e)? = c.arguments.first { endpoint = e } else { endpoint = c.id }
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        let row = Series.json(message)
        if let i = index[message.group] {
            rows[i] = row
        } else {
            index[message.group] = rows.count
            rows.append(row)
        }
        var json = "{\"series\":["
        json.reserveCapacity(rows.reduce(16) { $0 + $1.utf8.count + 1 })
        for (i, r) in rows.enumerated() {
            if i > 0 { json += "," }
            json += r
        }
        json += "]}"
        output.publish(.httpOut(endpoint: endpoint, json: json))
        output.emit(message)
    }
}
