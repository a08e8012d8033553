import Engine
import Foundation
import Testing
import TockModel
@testable import Alerting

/// A TICKscript naming the incident services, run through the engine: the catalog's properties (`.endpoint()`,
/// `.metadata(k, 2)`, `.tid(7)`, `.customField()`, `.services()`) reach the services as their options.
@Suite struct IncidentScriptTests {
    static let script = """
        stream
            |from().measurement('cpu')
            |alert()
                .id('cpu.{{ index .Tags "host" }}').message('{{ .ID }} is {{ .Level }}')
                .crit(lambda: "value" > 90)
                .post().endpoint('ops')
                .sensu().metadata('priority', 2).metadata('team', 'ops')
                .zenoss().tid(7).eventClass('/Status').customField('n', 3)
                .alerta().resource('{{ index .Tags "host" }}').services('web')
        """

    @Test func aCriticalPointAndItsRecoveryReachEachService() async throws {
        let http = try PostReceiver(status: 200)
        let sensu = try PostReceiver(mode: .tcp(answer: "ok"))
        let alertaReceiver = try PostReceiver(status: 201)
        defer { http.stop(); sensu.stop(); alertaReceiver.stop() }
        let adapter = ServicesAdapter([
            "post": HTTPPostService(endpoints: [HTTPPostEndpoint(name: "ops", url: http.url + "/post", alertTemplate: "{{ .ID }} {{ .Level }}")]),
            "sensu": try SensuService(elements: [["enabled": .bool(true), "addr": .string("127.0.0.1:\(sensu.port)")]]),
            "zenoss": try ZenossService(elements: [["enabled": .bool(true), "url": .string(http.url + "/zenoss")]]),
            "alerta": try AlertaService(elements: [["enabled": .bool(true), "url": .string(alertaReceiver.url), "token": .string("t")]]),
        ])
        var options = TaskRunner.Options(taskID: "cpu_alert")
        options.alertService = adapter
        let runner = try TaskRunner(script: Self.script, options: options, handlers: .init())
        // The runner blocks while it drains; run it on its own thread so the test never holds one of the
        // concurrency pool's few threads while the deliveries it waits for need them.
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            Thread {
                do {
                    try runner.start()
                    runner.write([Point(name: "cpu", tags: Tags(["host": "a"]), fields: ["value": .double(95)], time: 0)])
                    runner.write([Point(name: "cpu", tags: Tags(["host": "a"]), fields: ["value": .double(50)], time: 1_000_000_000)])
                    try runner.stop()
                    done.resume()
                } catch {
                    done.resume(throwing: error)
                }
            }.start()
        }

        let requests = await http.waitFor(4)
        #expect(requests.filter { $0.path == "/post" }.map(\.text) == ["cpu.a CRITICAL", "cpu.a OK"])
        #expect(requests.filter { $0.path == "/zenoss" }.map(\.text) == [
            #"{"action":"EventsRouter","method":"add_event","data":[{"component":"","device":"","evclass":"/Status","evclasskey":"","n":3,"severity":"Critical","summary":"cpu.a is CRITICAL"}],"type":"rpc","tid":7}"#,
            #"{"action":"EventsRouter","method":"add_event","data":[{"component":"","device":"","evclass":"/Status","evclasskey":"","n":3,"severity":"Clear","summary":"cpu.a is OK"}],"type":"rpc","tid":7}"#,
        ])
        #expect(await sensu.waitFor(2).map(\.text) == [
            #"{"handlers":null,"name":"cpu.a","output":"cpu.a is CRITICAL","priority":2,"source":"Kapacitor","status":2,"team":"ops"}"# + "\n",
            #"{"handlers":null,"name":"cpu.a","output":"cpu.a is OK","priority":2,"source":"Kapacitor","status":0,"team":"ops"}"# + "\n",
        ])
        #expect(await alertaReceiver.waitFor(2).map(\.text) == [
            #"{"correlate":["cpu"],"environment":"","event":"cpu.a","group":"nil","origin":"","rawData":{"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","value"],"values":[["1970-01-01T00:00:00Z",95]]}]},"resource":"a","service":["web"],"severity":"critical","tags":["host=a"],"text":"cpu.a is CRITICAL","timeout":86400,"value":""}"# + "\n",
            #"{"correlate":["cpu"],"environment":"","event":"cpu.a","group":"nil","origin":"","rawData":{"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","value"],"values":[["1970-01-01T00:00:01Z",50]]}]},"resource":"a","service":["web"],"severity":"ok","tags":["host=a"],"text":"cpu.a is OK","timeout":86400,"value":""}"# + "\n",
        ])
        #expect(adapter.failures.isEmpty)
    }
}
