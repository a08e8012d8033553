import Engine
import Foundation
import TockModel

/// `post`: HTTP POST of the alert to a URL or a `[[httppost]]` endpoint (Kapacitor: services/httppost).
///
/// The endpoints are the daemon's `[[httppost]]` sections, the ones `httpPost().endpoint(name)` uses
/// (``HTTPPostEndpoint``); an endpoint's `alert-template` renders the body, its `headers` and `basic-auth` go with
/// every request.
public struct HTTPPostService: AlertServiceKind {
    public static let kind = "post"
    public static let section = ConfigSectionSpec("httppost", repeatable: true, elementKey: "endpoint", redacted: ["basic-auth"])

    /// The endpoints by name; a later section with the same name replaces an earlier one, as in Kapacitor.
    public let endpoints: [String: HTTPPostEndpoint]
    /// Names in configuration order, for ``elements``.
    private let order: [String]
    /// The `*-file` settings as written (``HTTPPostEndpoint`` holds the text read from them).
    private let files: [String: (alert: String, row: String)]

    /// The service over the daemon's parsed `[[httppost]]` sections.
    public init(endpoints: [HTTPPostEndpoint]) {
        self.init(endpoints: endpoints, files: [:])
    }

    public init(elements: [ConfigTable]) throws(ConfigError) {
        var endpoints: [HTTPPostEndpoint] = []
        var files: [String: (alert: String, row: String)] = [:]
        for (i, table) in elements.enumerated() {
            var r = ConfigReader(table, section: "httppost #\(i + 1)")
            let name = try r.string("endpoint")
            let url = try r.string("url")
            let headers = try r.stringMap("headers")
            let auth = try r.stringMap("basic-auth")
            let alert = try Self.template(&r, "alert-template")
            let row = try Self.template(&r, "row-template")
            try r.finish()
            guard !name.isEmpty else { throw ConfigError("[[httppost]] #\(i + 1): must specify endpoint name") }
            guard !url.isEmpty else { throw ConfigError("[[httppost]] \(name): must specify url") }
            if let unknown = auth.keys.first(where: { $0 != "username" && $0 != "password" }) {
                throw ConfigError("[[httppost]] \(name): unknown setting basic-auth.\(unknown) (username, password)")
            }
            var endpoint = HTTPPostEndpoint(
                name: name, url: url, headers: headers,
                basicAuth: auth.isEmpty ? nil : .init(username: auth["username"] ?? "", password: auth["password"] ?? ""),
                alertTemplate: alert.text, rowTemplate: row.text, rowTemplateFromFile: row.fromFile)
            endpoint.alertTemplateFromFile = alert.fromFile
            do {
                try endpoint.check()
                if let text = alert.text { _ = try EventTemplate(name: "body", source: text, data: .alertData, json: !alert.fromFile) }
            } catch {
                throw ConfigError("[[httppost]] \(name): \(error)")
            }
            files[name] = (alert.path, row.path)
            endpoints.append(endpoint)
        }
        self.init(endpoints: endpoints, files: files)
    }

    private init(endpoints: [HTTPPostEndpoint], files: [String: (alert: String, row: String)]) {
        var byName: [String: HTTPPostEndpoint] = [:]
        var order: [String] = []
        for e in endpoints {
            if byName[e.name] == nil { order.append(e.name) }
            byName[e.name] = e
        }
        self.endpoints = byName
        self.order = order
        self.files = files
    }

    /// `key` or the text of `key-file` (an absolute path), not both; as Kapacitor's Config.Validate.
    private static func template(_ r: inout ConfigReader, _ key: String) throws(ConfigError) -> (text: String?, fromFile: Bool, path: String) {
        let text = try r.string(key)
        let path = try r.string(key + "-file")
        if !text.isEmpty && !path.isEmpty { throw ConfigError("[\(r.section)] must specify only one of \(key) and \(key)-file") }
        if !text.isEmpty { return (text, false, "") }
        if path.isEmpty { return (nil, false, "") }
        guard path.hasPrefix("/") else { throw ConfigError("[\(r.section)] must use an absolute path for \(key)-file") }
        do {
            return (try String(contentsOfFile: path, encoding: .utf8), true, path)
        } catch {
            throw ConfigError("[\(r.section)] failed to read template file \"\(path)\": \(error.localizedDescription)")
        }
    }

    public var elements: [ConfigTable] {
        order.compactMap { endpoints[$0] }.map { e in
            let file = files[e.name]
            return [
                "endpoint": .string(e.name),
                "url": .string(e.url),
                "headers": .table(e.headers.mapValues { .string($0) }),
                "basic-auth": .bool(e.basicAuth != nil),
                "alert-template": .string(e.alertTemplateFromFile ? "" : e.alertTemplate ?? ""),
                "alert-template-file": .string(file?.alert ?? ""),
                "row-template": .string(e.rowTemplateFromFile ? "" : e.rowTemplate ?? ""),
                "row-template-file": .string(file?.row ?? ""),
            ]
        }
    }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let url = try r.string("url") ?? ""
        let endpointName = try r.string("endpoint") ?? ""
        let headers = try r.stringMap("headers") ?? [:]
        let captureResponse = try r.bool("capture-response") ?? false
        let timeout = try r.duration("timeout") ?? 0
        let insecure = try r.bool("skip-ssl-verification") ?? false
        try r.finish()

        let endpoint: HTTPPostEndpoint
        if let e = endpoints[endpointName] {
            endpoint = e
        } else if !url.isEmpty {
            endpoint = HTTPPostEndpoint(name: "", url: url)
        } else if !endpointName.isEmpty {
            let known = order.isEmpty ? "none is configured" : "known: \(order.joined(separator: ", "))"
            throw HandlerOptionError("post: no [[httppost]] endpoint \"\(endpointName)\" (\(known)) and no url", option: "endpoint")
        } else {
            throw HandlerOptionError("post: An appropriately formatted url must be specified if an endpoint is not specified", option: "url")
        }
        let urlTemplate: EventTemplate
        var bodyTemplate: EventTemplate?
        do {
            urlTemplate = try EventTemplate(name: "body", source: endpoint.url, data: .alertData, json: true)
        } catch {
            throw HandlerOptionError("post: invalid url template \"\(endpoint.url)\": \(error)", option: endpoint.name.isEmpty ? "url" : "endpoint")
        }
        if let text = endpoint.alertTemplate, !text.isEmpty {
            do {
                bodyTemplate = try EventTemplate(name: "body", source: text, data: .alertData, json: !endpoint.alertTemplateFromFile)
            } catch {
                throw HandlerOptionError("post: endpoint \"\(endpoint.name)\" alert-template: \(error)", option: "endpoint")
            }
        }
        return HTTPPostSender(
            endpointName: endpoint.name, url: urlTemplate, body: bodyTemplate, endpointHeaders: endpoint.headers,
            basicAuth: endpoint.basicAuth.flatMap { $0.username.isEmpty || $0.password.isEmpty ? nil : $0 },
            headers: headers, timeout: timeout > 0 ? .nanoseconds(timeout) : AlertHTTP.defaultTimeout, insecure: insecure,
            captureResponse: captureResponse)
    }
}
