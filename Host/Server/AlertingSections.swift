import Alerting
import Engine
import Foundation
import PluginHost
import TOMLKit

/// The alert services' sections (`[smtp]`, `[[slack]]`, … as each registered service names its own) and Tock's
/// `[alerting]` delivery settings, read from kapacitor.conf and `KAPACITOR_<SECTION>_<KEY>` / `TOCK_<SECTION>_<KEY>`
/// variables (`KAPACITOR_SLACK_0_URL` for the first element of a repeatable section).
extension ServerConfiguration {
    /// The section names of the registered alert services.
    static var alertSectionNames: Set<String> {
        Set(AlertServiceRegistry.kinds.map { $0.section.name }.filter { !$0.isEmpty })
    }

    /// Reads one alert service section (a table, or an array of tables) into ``alertSections``.
    mutating func applyAlertSection(_ name: String, _ value: any TOMLValueConvertible, file: String) throws(ConfigurationError) {
        var elements: [ConfigTable] = []
        if let table = value.table {
            elements = [Self.configTable(table)]
        } else if let array = value.array {
            for (i, item) in array.enumerated() {
                guard let table = item.table else { throw ConfigurationError("\(file) [[\(name)]] #\(i + 1): must be a table") }
                elements.append(Self.configTable(table))
            }
        } else {
            throw ConfigurationError("\(file): \(name) must be a section ([\(name)] or [[\(name)]])")
        }
        alertSections[name] = elements
    }

    /// Reads `[alerting]`.
    mutating func applyAlerting(_ value: any TOMLValueConvertible, file: String) throws(ConfigurationError) {
        guard let table = value.table else { throw ConfigurationError("\(file): alerting must be a section ([alerting])") }
        do { alerting = try DeliverySettings(table: Self.configTable(table)) } catch { throw ConfigurationError("\(file): \(error)") }
    }

    /// `KAPACITOR_<SECTION>[_<INDEX>]_<KEY>` or `TOCK_…` for an alert service's section or `[alerting]`; `false`
    /// when `name` is about another section. `_` in the key stands for `-`; the value is read as the file's text
    /// would be (`true`, `10`, `"5s"`, a comma-separated list).
    mutating func applyAlertEnvironment(name: String, value: String) throws(ConfigurationError) -> Bool {
        let rest: Substring
        if name.hasPrefix("KAPACITOR_") { rest = name.dropFirst(10) } else if name.hasPrefix("TOCK_") { rest = name.dropFirst(5) } else { return false }
        let lower = rest.lowercased()
        let sections = Self.alertSectionNames.union([DeliverySettings.section])
        guard let section = sections.sorted(by: { $0.count > $1.count }).first(where: { lower.hasPrefix($0 + "_") }) else { return false }
        var parts = lower.dropFirst(section.count + 1).split(separator: "_", maxSplits: 1).map(String.init)
        var index = 0
        if parts.count == 2, let i = Int(parts[0]) {
            index = i
            parts.removeFirst()
        }
        let key = parts.joined(separator: "_").replacingOccurrences(of: "_", with: "-")
        guard !key.isEmpty else { return false }
        if section == DeliverySettings.section {
            var table = alerting.table
            table[key] = .string(value)
            do { alerting = try DeliverySettings(table: table) } catch { throw ConfigurationError("\(name): \(error)") }
            return true
        }
        var elements = alertSections[section] ?? []
        guard index <= elements.count else {
            throw ConfigurationError("\(name): there are \(elements.count) [\(section)] elements; the next is number \(elements.count)")
        }
        if index == elements.count { elements.append([:]) }
        elements[index][key] = .string(value)
        alertSections[section] = elements
        return true
    }

    /// The daemon's alerting service, from ``alertSections`` and ``alerting``; errors name the file and the section.
    /// `execPolicy`: the daemon gives ``execPolicy`` (`[alert] exec-allowed`); `tock run` and `tock test` run the user's
    /// own scripts unrestricted.
    /// `deadLetters`: where given-up events go (the daemon's store); `nil`: memory, at most `dead-letter-max`.
    public func makeAlertingService(notifiers: [String: NotifierPlugin] = [:], execPolicy: ExecPolicy = .unrestricted,
                                    deadLetters: DeadLetterOffice? = nil) throws(ConfigurationError) -> AlertingService {
        do {
            return try AlertingService(configuration: alertSections, delivery: alerting, notifiers: notifiers, execPolicy: execPolicy,
                                       deadLetters: deadLetters)
        } catch {
            throw ConfigurationError("\(file ?? "configuration"): \(error)")
        }
    }

    /// A TOML table as the alert services read it.
    static func configTable(_ table: TOMLTable) -> ConfigTable {
        var out: ConfigTable = [:]
        for key in table.keys { out[key] = configValue(table[key]!) }
        return out
    }

    static func configValue(_ value: any TOMLValueConvertible) -> ConfigValue {
        if let s = value.string { return .string(s) }
        if let b = value.bool { return .bool(b) }
        if let i = value.int { return .int(Int64(i)) }
        if let d = value.double { return .float(d) }
        if let a = value.array { return .array(a.map { configValue($0) }) }
        if let t = value.table { return .table(configTable(t)) }
        return .string(text(value))
    }

    /// `tock config`'s text for `[alerting]`.
    static let alertingDefaultText = """

        [alerting]
          # How every alert handler delivers (Tock's own section): each handler of each alert node has a queue of
          # at most queue-size events (when full, the oldest waiting event is dropped and logged), sends one event
          # at a time in order, gives each attempt `timeout`, and retries failures a receiver may recover from
          # (connection refused, timeouts, 5xx, 429) up to retry-max-attempts attempts, waiting
          # retry-initial-backoff, doubled each time up to retry-max-backoff (or the receiver's Retry-After).
          # Refusals (4xx) are not retried. Environment: TOCK_ALERTING_QUEUE_SIZE=5000, …
          queue-size = 1000
          timeout = "30s"
          retry-max-attempts = 5
          retry-initial-backoff = "1s"
          retry-max-backoff = "1m"
          # Every event a handler gives up (refused, retries exhausted, pushed out of a full queue, still pending when
          # the daemon stops after drain-timeout) is kept as a dead letter: `tock list dead-letters`,
          # `tock replay-dead-letters`, `tock delete dead-letters`. At most dead-letter-max are kept (oldest removed).
          dead-letter-max = 10000
          drain-timeout = "10s"
          # At most N events per duration per handler; events over it wait in the handler's queue. Off by default.
          # rate-limit = "20/1m"
          # [alerting.rate-limits]
          #   slack = "10/1m"

        """
}
