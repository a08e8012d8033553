import Engine
import TockModel

/// One of Kapacitor's alert services (`slack`, `smtp`, `pagerduty2`, …), built from its kapacitor.conf section.
///
/// Each service lives in its own folder under `Host/Alerting/Services/` with its configuration, its sender, and a
/// short README with a sample configuration, and is listed in ``AlertServiceRegistry``.
public protocol AlertServiceKind: Sendable {
    /// The topic-handler kind and ``AlertHandlerSpec/kind``: `slack`, `pagerduty2`.
    static var kind: String { get }

    /// Its kapacitor.conf section.
    static var section: ConfigSectionSpec { get }

    /// Reads the section: one table per element (`[[slack]]` may repeat; `[smtp]` has one), empty when the
    /// configuration has none (Kapacitor's defaults apply then). Unknown keys and bad values are refused.
    init(elements: [ConfigTable]) throws(ConfigError)

    /// The section as `GET /kapacitor/v1/config` shows it: one table per element, every key with its current value,
    /// secrets redacted as Kapacitor redacts them.
    var elements: [ConfigTable] { get }

    /// Whether alerts use the service without naming it (`global = true`), with the options it then takes.
    var globalHandlers: [AlertHandlerSpec] { get }

    /// Whether its global handlers come with `state-changes-only = true`: Kapacitor then makes every alert node send
    /// only state changes, as if it had `.stateChangesOnly()` (alert.go, for `[smtp]`, `[slack]`, `[telegram]`, …).
    var globalStateChangesOnly: Bool { get }

    /// Makes a sender from a handler's options (a script's `.slack().channel('#x')` or a topic handler's `options`)
    /// and the configuration. Throws when an option is unknown or invalid, or when the service is not enabled.
    func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender
}

extension AlertServiceKind {
    public var globalHandlers: [AlertHandlerSpec] { [] }
    public var globalStateChangesOnly: Bool { false }
}

/// A kapacitor.conf section of an alert service.
public struct ConfigSectionSpec: Sendable, Hashable {
    /// `slack`, `smtp`, `httppost`.
    public var name: String
    /// Whether it is an array of tables (`[[slack]]`).
    public var repeatable: Bool
    /// The key naming each element of a repeatable section (`workspace`, `name`, `id`, `endpoint`).
    public var elementKey: String?
    /// Keys whose values are secrets: shown redacted by the config API (`password`, `token`, `url` for Slack).
    public var redacted: Set<String>

    public init(_ name: String, repeatable: Bool = false, elementKey: String? = nil, redacted: Set<String> = []) {
        self.name = name
        self.repeatable = repeatable
        self.elementKey = elementKey
        self.redacted = redacted
    }

    /// No section: the service is configured by its handlers' options alone (`log`, `tcp`, `exec`).
    public static let none = ConfigSectionSpec("")
}
