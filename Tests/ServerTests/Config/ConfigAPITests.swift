import Alerting
import Storage
import Foundation
import InfluxDB
import Testing
@testable import Server

/// A daemon whose alert service is built as `tock serve` builds it: the file's sections with the stored overrides.
func serveWithAlerting(_ f: Fixture, _ body: @Sendable (Client) async throws -> Void) async throws {
    let master = try f.master()
    master.alertService = try f.configuration.applyingConfigOverrides(from: master.store).makeAlertingService()
    try await f.serve(master, body)
}

func slackFixture(url: String) -> Fixture {
    var f = Fixture()
    f.configuration.alertSections["slack"] = [["enabled": .bool(true), "url": .string(url), "channel": .string("ops")]]
    return f
}

@Suite("Config API: /kapacitor/v1/config as Kapacitor's services/config")
struct ConfigAPITests {
    static let slackElement = #"{"link":{"rel":"self","href":"/kapacitor/v1/config/slack/"},"options":{"channel":"ops","default":true,"enabled":true,"global":false,"icon-emoji":"","insecure-skip-verify":false,"ssl-ca":"","ssl-cert":"","ssl-key":"","state-changes-only":false,"token":false,"url":true,"username":"kapacitor","workspace":""},"redacted":["token","url"]}"#

    @Test("GET /config/slack shows the element with its secrets redacted as is-set booleans")
    func slackSection() async throws {
        let f = slackFixture(url: "http://127.0.0.1:1/hook")
        defer { f.remove() }
        try await serveWithAlerting(f) { client in
            let section = try await client.execute(uri: "/kapacitor/v1/config/slack")
            #expect(section.status == .ok)
            #expect(section.json.serialized == #"{"link":{"rel":"self","href":"/kapacitor/v1/config/slack"},"elements":["# + Self.slackElement + "]}")
            let element = try await client.execute(uri: "/kapacitor/v1/config/slack/")
            #expect(element.json.serialized == Self.slackElement)
        }
    }

    @Test("GET /config/influxdb shows each cluster by name, the password redacted, Go durations")
    func influxDBSection() async throws {
        var f = Fixture()
        var cluster = InfluxDBConfiguration(name: "default", urls: ["http://127.0.0.1:8086"])
        cluster.username = "bob"
        cluster.password = "secret"
        f.configuration.influxDB = [cluster]
        defer { f.remove() }
        try await serveWithAlerting(f) { client in
            let answer = try await client.execute(uri: "/kapacitor/v1/config/influxdb/default")
            #expect(answer.status == .ok)
            #expect(answer.text == #"{"link":{"rel":"self","href":"/kapacitor/v1/config/influxdb/default"},"options":{"default":false,"disable-subscriptions":false,"enabled":true,"excluded-subscriptions":{"_kapacitor":["autogen"]},"http-port":0,"insecure-skip-verify":false,"kapacitor-hostname":"","name":"default","password":true,"ssl-ca":"","ssl-cert":"","ssl-key":"","startup-timeout":"5m0s","subscription-mode":"cluster","subscription-path":"","subscription-protocol":"http","subscriptions":{},"subscriptions-sync-interval":"1m0s","timeout":"0s","udp-bind":"","udp-buffer":1000,"udp-read-buffer":0,"urls":["http://127.0.0.1:8086"],"username":"bob"},"redacted":["password"]}"# + "\n")
            let refused = try await client.execute(uri: "/kapacitor/v1/config/influxdb/default", method: "POST",
                                                   body: #"{"set":{"username":"alice"}}"#)
            #expect(refused.status == .forbidden)
            #expect(refused.json.serialized == #"{"error":"section influxdb cannot be changed while Tock runs: edit [[influxdb]] in kapacitor.conf and restart"}"#)
        }
    }

    @Test("GET /config lists every section with its link; unknown sections and elements are 404")
    func allSections() async throws {
        let f = slackFixture(url: "http://127.0.0.1:1/hook")
        defer { f.remove() }
        try await serveWithAlerting(f) { client in
            let all = try await client.execute(uri: "/kapacitor/v1/config")
            #expect(all.status == .ok)
            guard case .object(let top) = all.json, case .object(let sections)? = top.first(where: { $0.0 == "sections" })?.1 else {
                Issue.record("no sections in \(all.text)")
                return
            }
            #expect(top.first?.1.serialized == #"{"rel":"self","href":"/kapacitor/v1/config"}"#)
            let names = sections.map(\.0)
            #expect(names == names.sorted())
            #expect(Set(names).isSuperset(of: ["influxdb", "slack", "smtp", "pagerduty2", "httppost", "mqtt", "kafka"]))
            #expect(!names.contains("http"))
            let missing = try await client.execute(uri: "/kapacitor/v1/config/http")
            #expect(missing.status == .notFound)
            #expect(missing.json.serialized == #"{"error":"unknown section: http"}"#)
            let element = try await client.execute(uri: "/kapacitor/v1/config/slack/nope")
            #expect(element.json.serialized == #"{"error":"unknown section/element: slack/nope"}"#)
        }
    }

    @Test("POST set/delete: Kapacitor's validation messages; an unknown option is named")
    func validation() async throws {
        let f = slackFixture(url: "http://127.0.0.1:1/hook")
        defer { f.remove() }
        try await serveWithAlerting(f) { client in
            func post(_ path: String, _ body: String) async throws -> (Int, String) {
                let a = try await client.execute(uri: "/kapacitor/v1/config/" + path, method: "POST", body: body)
                return (a.status.code, a.json.serialized)
            }
            #expect(try await post("slack/", #"{"set":{"colour":"red"}}"#)
                    == (400, #"{"error":"failed to override configuration slack/: unknown options [colour] in section slack"}"#))
            #expect(try await post("slack", #"{"set":{"channel":"x"}}"#)
                    == (400, #"{"error":"failed to apply update: invalid update action: element not specified, are you missing a trailing '/'?"}"#))
            #expect(try await post("slack/", #"{"set":{"channel":"x"},"add":{"workspace":"w"}}"#)
                    == (400, #"{"error":"failed to apply update: invalid update action: cannot provide both set/delete and add/remove actions in the same update"}"#))
            #expect(try await post("smtp", #"{"add":{"host":"h"}}"#)
                    == (400, #"{"error":"failed to apply update: section \"smtp\" is not a list, cannot add new element"}"#))
            #expect(try await post("slack", #"{"add":{"channel":"x"}}"#)
                    == (400, #"{"error":"failed to apply update: missing key \"workspace\" in \"add\" map"}"#))
            #expect(try await post("slack/", #"{"set":{"workspace":"w"}}"#)
                    == (400, #"{"error":"failed to override configuration slack/: cannot override element key workspace"}"#))
            #expect(try await post("http/", #"{"set":{"bind-address":":1"}}"#)
                    == (400, #"{"error":"failed to override configuration http/: unknown section http"}"#))
            #expect(try await post("slack/", #"{"set":{"url":"ftp://x"}}"#).0 == 400)
            // Nothing refused was stored.
            let element = try await client.execute(uri: "/kapacitor/v1/config/slack/")
            #expect(element.json.serialized == Self.slackElement)
        }
    }

    @Test("POST set applies live: an alert through slack defined after the override reaches the new URL, no restart")
    func liveOverride() async throws {
        let old = LoopbackReceiver()
        let new = LoopbackReceiver()
        try await old.serve { oldURL in
            try await new.serve { newURL in
                let f = slackFixture(url: oldURL + "/old")
                defer { f.remove() }
                try await serveWithAlerting(f) { client in
                    let set = try await client.execute(uri: "/kapacitor/v1/config/slack/", method: "POST",
                                                       body: #"{"set":{"url":""# + newURL + #"/new","channel":"changed"}}"#)
                    #expect(set.status == .noContent)
                    let element = try await client.execute(uri: "/kapacitor/v1/config/slack/")
                    #expect(element.text.contains(#""channel":"changed""#))
                    let script = "stream|from().measurement('cpu')|alert().id('cpu').message('cpu is high').crit(lambda: TRUE).slack()"
                    let define = #"{"id":"slack","type":"stream","dbrps":[{"db":"telegraf","rp":"autogen"}],"status":"enabled","script":""# + script + #""}"#
                    #expect(try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: define).status == .ok)
                    _ = try await client.execute(uri: "/write?db=telegraf&rp=autogen&precision=s", method: "POST", body: "cpu value=99 1\n")
                    let requests = try await new.waitForRequests(1)
                    #expect(requests[0].path == "/new")
                    #expect(requests[0].body.contains(#""channel":"changed""#))
                    #expect(requests[0].body.contains("cpu is high"))
                    #expect(old.requests.isEmpty)
                    // delete reverts the option to the file's value.
                    let reverted = try await client.execute(uri: "/kapacitor/v1/config/slack/", method: "POST",
                                                            body: #"{"delete":["channel"]}"#)
                    #expect(reverted.status == .noContent)
                    #expect(try await client.execute(uri: "/kapacitor/v1/config/slack/").text.contains(#""channel":"ops""#))
                }
            }
        }
    }

    @Test("POST add and remove: a new slack workspace is created, listed by its name, and removed")
    func addRemove() async throws {
        let f = slackFixture(url: "http://127.0.0.1:1/hook")
        defer { f.remove() }
        try await serveWithAlerting(f) { client in
            // Several workspaces need names: the file's unnamed workspace refuses a second one.
            let add = try await client.execute(uri: "/kapacitor/v1/config/slack", method: "POST",
                                               body: #"{"add":{"workspace":"other","enabled":true,"url":"http://127.0.0.1:2/x"}}"#)
            #expect(add.status == .badRequest)
            #expect(add.json.serialized == #"{"error":"failed to override configuration slack/: failed validation: [[slack]] workspace must not be empty when there are several"}"#)
        }
        var named = Fixture()
        named.configuration.alertSections["slack"] = [["enabled": .bool(true), "url": .string("http://127.0.0.1:1/hook"),
                                                       "workspace": .string("main"), "default": .bool(true)]]
        defer { named.remove() }
        try await serveWithAlerting(named) { client in
            let add = try await client.execute(uri: "/kapacitor/v1/config/slack", method: "POST",
                                               body: #"{"add":{"workspace":"other","enabled":true,"url":"http://127.0.0.1:2/x"}}"#)
            #expect(add.status == .noContent)
            let other = try await client.execute(uri: "/kapacitor/v1/config/slack/other")
            #expect(other.status == .ok)
            #expect(other.text.contains(#""href":"/kapacitor/v1/config/slack/other""#))
            let again = try await client.execute(uri: "/kapacitor/v1/config/slack", method: "POST",
                                                 body: #"{"add":{"workspace":"other"}}"#)
            #expect(again.json.serialized == #"{"error":"failed to apply update: cannot add new override, override already exists for slack/other"}"#)
            let remove = try await client.execute(uri: "/kapacitor/v1/config/slack", method: "POST", body: #"{"remove":["other"]}"#)
            #expect(remove.status == .noContent)
            #expect(try await client.execute(uri: "/kapacitor/v1/config/slack/other").status == .notFound)
        }
    }

    @Test("Overrides survive a restart; skip-config-overrides starts from the file alone")
    func restart() async throws {
        var f = slackFixture(url: "http://127.0.0.1:1/hook")
        defer { f.remove() }
        try await serveWithAlerting(f) { client in
            let set = try await client.execute(uri: "/kapacitor/v1/config/slack/", method: "POST", body: #"{"set":{"channel":"kept"}}"#)
            #expect(set.status == .noContent)
        }
        try await serveWithAlerting(f) { client in
            let element = try await client.execute(uri: "/kapacitor/v1/config/slack/")
            #expect(element.text.contains(#""channel":"kept""#))
        }
        let master = try f.master()
        let service = try f.configuration.applyingConfigOverrides(from: master.store).makeAlertingService()
        #expect((service.services["slack"] as? SlackService)?.defaultWorkspace?.channel == "kept")
        master.stopAll()
        f.configuration.skipConfigOverrides = true
        try await serveWithAlerting(f) { client in
            let element = try await client.execute(uri: "/kapacitor/v1/config/slack/")
            #expect(element.text.contains(#""channel":"ops""#))
        }
    }

    @Test("A stored override the file no longer allows stops the start with a message naming it and the way out")
    func badStoredOverride() throws {
        var f = slackFixture(url: "http://127.0.0.1:1/hook")
        defer { f.remove() }
        let master = try f.master()
        defer { master.stopAll() }
        try master.store.replaceConfigOverrides(section: "slack", with: [.init(id: "slack/gone", options: #"{"channel":"x"}"#, create: false)])
        do {
            _ = try f.configuration.applyingConfigOverrides(from: master.store)
            Issue.record("the override of a missing element was applied")
        } catch {
            #expect(error.description.contains("failed to override configuration slack/gone: unknown element \"gone\" in section slack"), "\(error)")
            #expect(error.description.hasSuffix("(set skip-config-overrides = true to start without them)"))
        }
        f.configuration.skipConfigOverrides = true
        #expect(try f.configuration.applyingConfigOverrides(from: master.store) == f.configuration)
    }

    @Test("[config-override] enabled = false: every config request is 403, as Kapacitor answers")
    func disabled() async throws {
        var f = Fixture()
        try f.configuration.apply(toml: "[config-override]\n  enabled = false\n")
        #expect(f.configuration.unusedSections.isEmpty)
        defer { f.remove() }
        try await serveWithAlerting(f) { client in
            for (method, body) in [("GET", nil), ("POST", #"{"set":{"enabled":true}}"#)] {
                let a = try await client.execute(uri: "/kapacitor/v1/config/slack/", method: method, body: body)
                #expect(a.status == .forbidden)
                #expect(a.json.serialized == #"{"error":"config override service is not enabled"}"#)
            }
        }
    }
}
