import Logging
import TockModel

/// `|log()`: writes each point or batch as its series JSON, at `.level()` (default INFO) with `.prefix()`,
/// and passes it on.
final class LogNode: Node {
    let level: LogLevel
    let prefix: String

    init(_ c: NodeConfiguration) throws {
        let name = (c.string("level") ?? "INFO").uppercased()
        guard let level = LogLevel(configured: name) else {
            throw NodeConfigurationError("invalid log level \"\(name)\": use DEBUG, INFO, WARN or ERROR")
        }
        self.level = level
        prefix = c.string("prefix") ?? ""
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        output.logger.log(level: Logger.Level(level), "\(prefix.isEmpty ? "" : prefix + " ")\(Series.json(message))")
        output.emit(message)
    }
}

/// `|httpOut(endpoint)`: keeps the last point or batch of each group (groups in first-seen order) and
/// publishes each update as the row that changed, with the live whole result; passes data on.
final class HTTPOutNode: Node {
    let endpoint: String
    let result = HTTPOutResult()

    init(_ c: NodeConfiguration) {
        if case .string(let e)? = c.arguments.first { endpoint = e } else { endpoint = c.id }
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        let row = Series.json(message)
        result.update(group: message.group, row: row)
        output.publish(.httpOut(endpoint: endpoint, row: row, result: result))
        output.emit(message)
    }
}
