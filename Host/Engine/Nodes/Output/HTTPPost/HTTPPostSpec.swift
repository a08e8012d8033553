import TockModel

/// `httpPost` as the script sees it (Kapacitor: pipeline/http_post.go and http_post.go's newHTTPPostNode).
enum HTTPPostSpecs {
    static let specs: [NodeSpec] = [httpPost]

    static let httpPost = NodeSpec(
        name: "httpPost", arguments: Signature(variadic: .string),
        properties: [
            PropertySpec("endpoint", Signature([.string]), repeatable: true),
            PropertySpec("header", Signature([.string, .string]), repeatable: true),
            PropertySpec("codeField", Signature([.string])),
            PropertySpec("captureResponse"),
            PropertySpec("timeout", Signature([.duration])),
        ],
        wants: nil, provides: .same
    ) { config in
        let urls = config.arguments.compactMap { if case .string(let s) = $0 { s } else { nil } }
        let endpoints = config.calls("endpoint").compactMap { if case .string(let s)? = $0.first { s } else { nil } }
        // Kapacitor's HTTPPostNode.validate, in its order.
        if urls.count >= 2 { throw NodeConfigurationError("httpPost expects 0 or 1 arguments, got \(urls.count)") }
        if endpoints.count > 1 { throw NodeConfigurationError("httpPost expects 0 or 1 endpoints, got \(endpoints.count)") }
        if urls.isEmpty && endpoints.isEmpty { throw NodeConfigurationError("must provide url or endpoint") }
        if !urls.isEmpty && !endpoints.isEmpty { throw NodeConfigurationError("only one endpoint and url may be specified") }
        // `.header(k, v)` fills a map: a later call with the same name replaces the value.
        var headers: [(name: String, value: String)] = []
        for call in config.calls("header") {
            guard case .string(let k)? = call.first, case .string(let v)? = call.last else { continue }
            if k.uppercased() == "AUTHENTICATE" { throw NodeConfigurationError("cannot set 'authenticate' header") }
            headers.removeAll { $0.name == k }
            headers.append((k, v))
        }
        headers.sort { $0.name < $1.name }
        let target: HTTPPostNode.Target
        if let url = urls.first {
            target = HTTPPostNode.Target(url: try urlTemplate(url, context: "error in url templating"), headers: [],
                                         basicAuth: nil, rowTemplate: nil)
        } else {
            let name = endpoints[0]
            guard let endpoint = config.configSections.httpPostEndpoints[name] else {
                let known = config.configSections.httpPostEndpoints.keys.sorted()
                throw NodeConfigurationError(
                    "endpoint '\(name)' does not exist"
                        + (known.isEmpty ? " (the configuration has no [[httppost]] sections)"
                            : " (the [[httppost]] endpoints are \(known.joined(separator: ", ")))"))
            }
            target = try Self.target(endpoint)
        }
        return HTTPPostNode(
            target: target, headers: headers, codeField: config.string("codeField").flatMap { $0.isEmpty ? nil : $0 },
            captureResponse: config.has("captureResponse"), timeout: max(0, config.duration("timeout") ?? 0),
            poster: config.alertService?.httpPoster ?? NoHTTPPoster())
    }

    /// An endpoint's URL template, headers, basic auth and row template, parsed when the task is defined.
    static func target(_ endpoint: HTTPPostEndpoint) throws -> HTTPPostNode.Target {
        let context = "[[httppost]] endpoint \"\(endpoint.name)\""
        var rowTemplate: AlertTemplate?
        if let text = endpoint.rowTemplate, !text.isEmpty {
            do {
                rowTemplate = try AlertTemplate(name: "body", source: text, kind: endpoint.rowTemplateFromFile ? .rowFromFile : .row)
            } catch {
                throw NodeConfigurationError("\(context): failed to parse row-template: \(error)")
            }
        }
        return HTTPPostNode.Target(
            url: try urlTemplate(endpoint.url, context: "\(context): invalid url template"),
            headers: endpoint.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            basicAuth: endpoint.basicAuth, rowTemplate: rowTemplate)
    }

    /// A URL, or a Go template producing one per request when it has actions (`{{ … }}`).
    static func urlTemplate(_ text: String, context: String) throws -> HTTPPostNode.URLTemplate {
        guard text.contains("{{") else { return .literal(text) }
        do {
            return .template(try AlertTemplate(name: "body", source: text, kind: .row))
        } catch {
            throw NodeConfigurationError("\(context): \(error)")
        }
    }
}
