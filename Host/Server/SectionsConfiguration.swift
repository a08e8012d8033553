import Engine
import Foundation
import TOMLKit
import TockModel

/// `[[httppost]]` and `[deadman]`: the sections scripts reach (`httpPost().endpoint(name)`, `deadman()`), read as
/// Kapacitor reads them (services/httppost/config.go, services/deadman/config.go).
extension ServerConfiguration {
    /// Reads the `[[httppost]]` array of tables: each needs `endpoint` and `url`; a later section with the same
    /// endpoint name replaces an earlier one, as in Kapacitor.
    mutating func applyHTTPPost(_ value: any TOMLValueConvertible, file: String) throws(ConfigurationError) {
        guard let array = value.array else {
            throw ConfigurationError("\(file): httppost must be an array of tables ([[httppost]]), one per endpoint")
        }
        for (i, item) in array.enumerated() {
            let origin = "\(file) [[httppost]] #\(i + 1)"
            guard let table = item.table else { throw ConfigurationError("\(origin): must be a table") }
            let endpoint = try Self.httpPostEndpoint(table, origin: origin)
            configSections.httpPostEndpoints[endpoint.name] = endpoint
        }
    }

    static func httpPostEndpoint(_ table: TOMLTable, origin: String) throws(ConfigurationError) -> HTTPPostEndpoint {
        var strings: [String: String] = [:]
        var headers: [String: String] = [:]
        var auth: HTTPPostEndpoint.BasicAuth?
        for key in table.keys.sorted() {
            let value = table[key]!
            switch key {
            case "endpoint", "url", "alert-template", "alert-template-file", "row-template", "row-template-file":
                guard let s = value.string else { throw ConfigurationError("\(origin): \(key) must be a string") }
                strings[key] = s
            case "headers":
                guard let t = value.table else { throw ConfigurationError("\(origin): headers must be a table of strings") }
                for name in t.keys {
                    guard let v = t[name]!.string else { throw ConfigurationError("\(origin): header \(name) must be a string") }
                    headers[name] = v
                }
            case "basic-auth":
                guard let t = value.table else {
                    throw ConfigurationError("\(origin): basic-auth must be a table { username = \"…\", password = \"…\" }")
                }
                for k in t.keys where k != "username" && k != "password" {
                    throw ConfigurationError("\(origin): unknown setting basic-auth.\(k) (username, password)")
                }
                auth = HTTPPostEndpoint.BasicAuth(username: t["username"]?.string ?? "", password: t["password"]?.string ?? "")
            default:
                throw ConfigurationError(
                    "\(origin): unknown setting \(key) (endpoint, url, headers, basic-auth, alert-template, alert-template-file, row-template, row-template-file)")
            }
        }
        guard let name = strings["endpoint"], !name.isEmpty else { throw ConfigurationError("\(origin): must specify endpoint name") }
        let named = "\(origin) (endpoint \"\(name)\")"
        guard let url = strings["url"], !url.isEmpty else { throw ConfigurationError("\(named): must specify url") }
        let alertTemplate = try template(strings, "alert-template", origin: named)
        let rowTemplate = try template(strings, "row-template", origin: named)
        var endpoint = HTTPPostEndpoint(
            name: name, url: url, headers: headers, basicAuth: auth, alertTemplate: alertTemplate?.text,
            rowTemplate: rowTemplate?.text, rowTemplateFromFile: rowTemplate?.fromFile ?? false)
        endpoint.alertTemplateFromFile = alertTemplate?.fromFile ?? false
        do {
            try endpoint.check()
        } catch {
            throw ConfigurationError("\(origin): \(error)")
        }
        return endpoint
    }

    /// `key` or the text of `key-file` (an absolute path), not both.
    static func template(_ strings: [String: String], _ key: String, origin: String) throws(ConfigurationError)
        -> (text: String, fromFile: Bool)? {
        let text = strings[key].flatMap { $0.isEmpty ? nil : $0 }
        let path = strings[key + "-file"].flatMap { $0.isEmpty ? nil : $0 }
        if text != nil && path != nil { throw ConfigurationError("\(origin): must specify only one of \(key) and \(key)-file") }
        if let text { return (text, false) }
        guard let path else { return nil }
        guard path.hasPrefix("/") else { throw ConfigurationError("\(origin): must use an absolute path for \(key)-file") }
        do {
            return (try String(contentsOfFile: path, encoding: .utf8), true)
        } catch {
            throw ConfigurationError("\(origin): failed to read template file \"\(path)\": \(error.localizedDescription)")
        }
    }

    /// One `[deadman]` setting (from the file or `TOCK_DEADMAN_<KEY>`).
    mutating func setDeadman(key: String, value: String, origin: String) throws(ConfigurationError) {
        switch key {
        case "interval":
            guard let ns = GoDuration.parse(value), ns > 0 else {
                throw ConfigurationError("\(origin): deadman interval must be a positive duration such as \"10s\", got \"\(value)\"")
            }
            configSections.deadman.interval = ns
        case "threshold":
            guard let t = Double(value), t.isFinite else {
                throw ConfigurationError("\(origin): deadman threshold must be a number of points per interval, got \"\(value)\"")
            }
            configSections.deadman.threshold = t
        case "id": configSections.deadman.id = value
        case "message": configSections.deadman.message = value
        case "global":
            switch value.lowercased() {
            case "true": configSections.deadman.global = true
            case "false": configSections.deadman.global = false
            default: throw ConfigurationError("\(origin): global must be true or false, got \"\(value)\"")
            }
        default:
            throw ConfigurationError("\(origin): unknown setting deadman.\(key) (interval, threshold, id, message, global)")
        }
    }

    /// `tock config`'s text for the two sections.
    static let sectionsDefaultText = """

        [deadman]
          # The defaults of deadman(threshold, interval): the alert's ID and message templates. In id, NODE_NAME
          # is replaced by the watched node's name (from1); in message, INTERVAL by the interval (10s).
          # With global = true every task gets deadman(threshold, interval) on its stream or batch source.
          # Environment: TOCK_DEADMAN_GLOBAL=true, TOCK_DEADMAN_THRESHOLD=1.0, …
          interval = "10s"
          threshold = 0.0
          id = "node 'NODE_NAME' in task '{{ .TaskName }}'"
          message = "{{ .ID }} is {{ if eq .Level \\"OK\\" }}alive{{ else }}dead{{ end }}: {{ index .Fields \\"emitted\\" | printf \\"%0.3f\\" }} points/INTERVAL."
          global = false

        # Endpoints for httpPost().endpoint('example'): one [[httppost]] table each. url is a Go template run
        # with the row ({{ .Name }}, {{ index .Tags "host" }}); row-template replaces the row JSON body
        # ({{ range .Values }}…{{ end }}); alert-template / alert-template-file are read and checked (alert .post()
        # does not use endpoints yet).
        # Template files need absolute paths.
        # [[httppost]]
        #   endpoint = "example"
        #   url = "http://127.0.0.1:8080/{{ .Name }}"
        #   headers = { Authorization = "Bearer secret" }
        #   basic-auth = { username = "user", password = "pass" }
        #   row-template = '{{ .Name }} {{ range .Values }}{{ index . "value" }} {{ end }}'
        #   alert-template-file = "/etc/tock/alert.tmpl"

        """
}
