import TockModel

/// The parts of the daemon's configuration that scripts reach: the `[[httppost]]` endpoints that
/// `httpPost().endpoint(name)` names, and the `[deadman]` defaults of `deadman()`.
///
/// `tock serve` and `tock run --config FILE` read them from the configuration file; the task builder
/// hands them to the nodes through ``NodeConfiguration/configSections``.
public struct ConfigSections: Sendable, Hashable {
    /// The `[[httppost]]` sections by their `endpoint` name.
    public var httpPostEndpoints: [String: HTTPPostEndpoint]
    /// The `[deadman]` section.
    public var deadman: DeadmanConfig

    public init(httpPostEndpoints: [String: HTTPPostEndpoint] = [:], deadman: DeadmanConfig = DeadmanConfig()) {
        self.httpPostEndpoints = httpPostEndpoints
        self.deadman = deadman
    }
}

/// One `[[httppost]]` section of kapacitor.conf (Kapacitor: services/httppost/config.go).
public struct HTTPPostEndpoint: Sendable, Hashable {
    /// The `endpoint` name scripts use.
    public var name: String
    /// `url`: a Go template, executed with the row (`{{ .Name }}`, `{{ index .Tags "host" }}`) for each request.
    public var url: String
    /// `headers`, added to every request (a script's `.header()` replaces one of the same name).
    public var headers: [String: String]
    /// `basic-auth = { username = …, password = … }`; used only when both are set, as Kapacitor does.
    public var basicAuth: BasicAuth?
    /// `alert-template` (or the text of `alert-template-file`): the body of alert `.post()` events.
    public var alertTemplate: String?
    /// `row-template` (or the text of `row-template-file`): the body `httpPost` sends instead of the row JSON.
    public var rowTemplate: String?
    /// Whether the row template came from a file: Kapacitor gives templates read from files no `json` function.
    public var rowTemplateFromFile: Bool
    /// Whether the alert template came from a file (no `json` function then either).
    public var alertTemplateFromFile: Bool = false

    public struct BasicAuth: Sendable, Hashable {
        public var username: String
        public var password: String
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    public init(name: String, url: String, headers: [String: String] = [:], basicAuth: BasicAuth? = nil,
                alertTemplate: String? = nil, rowTemplate: String? = nil, rowTemplateFromFile: Bool = false) {
        self.name = name
        self.url = url
        self.headers = headers
        self.basicAuth = basicAuth
        self.alertTemplate = alertTemplate
        self.rowTemplate = rowTemplate
        self.rowTemplateFromFile = rowTemplateFromFile
    }
}

/// The `[deadman]` section (Kapacitor: services/deadman/config.go), with Kapacitor's defaults.
public struct DeadmanConfig: Sendable, Hashable {
    /// `interval`: the interval of the global deadman (nanoseconds).
    public var interval: Int64
    /// `threshold`: the threshold of the global deadman, in points per interval.
    public var threshold: Double
    /// `id`: the alert ID template; `NODE_NAME` is replaced by the watched node's name (`from1`).
    public var id: String
    /// `message`: the alert message template; `INTERVAL` is replaced by the deadman's interval (`10s`).
    public var message: String
    /// `global`: add a deadman on the source (`stream0`/`batch0`) of every task.
    public var global: Bool

    public static let defaultID = "node 'NODE_NAME' in task '{{ .TaskName }}'"
    public static let defaultMessage =
        "{{ .ID }} is {{ if eq .Level \"OK\" }}alive{{ else }}dead{{ end }}: {{ index .Fields \"emitted\" | printf \"%0.3f\" }} points/INTERVAL."

    public init(interval: Int64 = 10 * GoDuration.second, threshold: Double = 0, id: String = DeadmanConfig.defaultID,
                message: String = DeadmanConfig.defaultMessage, global: Bool = false) {
        self.interval = interval
        self.threshold = threshold
        self.id = id
        self.message = message
        self.global = global
    }
}

extension HTTPPostEndpoint {
    /// Parses the endpoint's URL and row templates as `httpPost` will, so a configuration with a broken template is
    /// refused when it is read.
    public func check() throws {
        _ = try HTTPPostSpecs.target(self)
    }
}
