import Engine
import Foundation
@testable import Server
import Testing

@Suite("Configuration: [[httppost]] and [deadman] (Kapacitor services/httppost, services/deadman)")
struct SectionsConfigurationTests {
    @Test("[deadman] defaults are Kapacitor's, and `tock config` prints them")
    func deadmanDefaults() throws {
        let d = ServerConfiguration().configSections.deadman
        #expect(d.interval == 10_000_000_000 && d.threshold == 0 && !d.global)
        #expect(d.id == "node 'NODE_NAME' in task '{{ .TaskName }}'")
        #expect(d.message
            == "{{ .ID }} is {{ if eq .Level \"OK\" }}alive{{ else }}dead{{ end }}: {{ index .Fields \"emitted\" | printf \"%0.3f\" }} points/INTERVAL.")
        var printed = ServerConfiguration()
        try printed.apply(toml: ServerConfiguration.defaultText)
        #expect(printed.configSections == ServerConfiguration().configSections)
        #expect(ServerConfiguration.defaultText.contains("[deadman]"))
        #expect(ServerConfiguration.defaultText.contains("# [[httppost]]"))
    }

    @Test("[deadman] from the file, then TOCK_DEADMAN_* variables")
    func deadman() throws {
        var config = ServerConfiguration()
        try config.apply(toml: """
            [deadman]
              interval = "1m"
              threshold = 2
              id = "dead NODE_NAME"
              message = "{{ .ID }} INTERVAL"
              global = true
            """)
        #expect(config.configSections.deadman == DeadmanConfig(
            interval: 60_000_000_000, threshold: 2, id: "dead NODE_NAME", message: "{{ .ID }} INTERVAL", global: true))
        try config.apply(environment: ["TOCK_DEADMAN_THRESHOLD": "0.5", "TOCK_DEADMAN_GLOBAL": "false", "TOCK_DEADMAN_INTERVAL": "30s"])
        #expect(config.configSections.deadman.threshold == 0.5)
        #expect(config.configSections.deadman.interval == 30_000_000_000)
        #expect(!config.configSections.deadman.global)
        #expect(config.unusedSections.isEmpty)
    }

    @Test("[[httppost]] endpoints with url, headers, basic-auth and templates", .serialized)
    func httpPost() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tock-row-\(getpid()).tmpl").path
        try "{{ .Name }}".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        var config = ServerConfiguration()
        try config.apply(toml: """
            [[httppost]]
              endpoint = "example"
              url = "http://127.0.0.1:8080/{{ .Name }}"
              headers = { Authorization = "Bearer x", X-Team = "ops" }
              basic-auth = { username = "u", password = "p" }
              alert-template = "{{ .Message }}"
            [[httppost]]
              endpoint = "rows"
              url = "http://127.0.0.1:8081"
              row-template-file = "\(file)"
            """)
        let endpoints = config.configSections.httpPostEndpoints
        #expect(endpoints.keys.sorted() == ["example", "rows"])
        #expect(endpoints["example"] == HTTPPostEndpoint(
            name: "example", url: "http://127.0.0.1:8080/{{ .Name }}", headers: ["Authorization": "Bearer x", "X-Team": "ops"],
            basicAuth: .init(username: "u", password: "p"), alertTemplate: "{{ .Message }}"))
        #expect(endpoints["rows"]?.rowTemplate == "{{ .Name }}")
        #expect(endpoints["rows"]?.rowTemplateFromFile == true)
        #expect(config.unusedSections.isEmpty)
        // The same endpoints serve alert .post().endpoint(name): the alert service reads them too.
        #expect(config.alertSections["httppost"]?.compactMap { $0["endpoint"] } == [.string("example"), .string("rows")])
        let alerting = try config.makeAlertingService()
        try alerting.check(AlertHandlerSpec(kind: "post", options: ["endpoint": .string("rows")]))
        #expect(throws: (any Error).self) { try alerting.check(AlertHandlerSpec(kind: "post", options: ["endpoint": .string("nope")])) }
    }

    @Test("a bad [[httppost]] or [deadman] is an error naming the section and why", arguments: [
        ("[[httppost]]\n  url = \"http://127.0.0.1\"", "[[httppost]] #1: must specify endpoint name"),
        ("[[httppost]]\n  endpoint = \"e\"", "[[httppost]] #1 (endpoint \"e\"): must specify url"),
        ("[[httppost]]\n  endpoint = \"e\"\n  url = \"http://h\"\n  row-template = \"x\"\n  row-template-file = \"/x\"",
         "[[httppost]] #1 (endpoint \"e\"): must specify only one of row-template and row-template-file"),
        ("[[httppost]]\n  endpoint = \"e\"\n  url = \"http://h\"\n  alert-template-file = \"x.tmpl\"",
         "[[httppost]] #1 (endpoint \"e\"): must use an absolute path for alert-template-file"),
        ("[[httppost]]\n  endpoint = \"e\"\n  url = \"http://h/{{ .Nope }}\"",
         "[[httppost]] #1: [[httppost]] endpoint \"e\": invalid url template: template: body: can't evaluate field Nope"),
        ("[[httppost]]\n  endpoint = \"e\"\n  url = \"http://h\"\n  method = \"PUT\"", "[[httppost]] #1: unknown setting method"),
        ("[deadman]\n  interval = \"0s\"", "deadman interval must be a positive duration"),
        ("[deadman]\n  threshold = \"many\"", "deadman threshold must be a number"),
        ("[deadman]\n  globl = true", "unknown setting deadman.globl (interval, threshold, id, message, global)"),
    ])
    func errors(toml: String, message: String) {
        var config = ServerConfiguration()
        let error = #expect(throws: ConfigurationError.self) { try config.apply(toml: toml, file: "k.conf") }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("k.conf") == true, "\(String(describing: error))")
    }
}
