import Alerting
import Foundation
import Testing
@testable import Server

@Suite("Config API: list sections that start empty ([[httppost]], [[mqtt]], [[kafka]])")
struct ConfigListSectionTests {
    @Test("every key of an element is known to set/add, also for sections with no element by default")
    func knownKeys() {
        for kind in [HTTPPostService.self, MQTTService.self, KafkaService.self] as [any AlertServiceKind.Type] {
            let keys = ConfigOverrides.knownKeys(kind)
            #expect(keys.contains(kind.section.elementKey!))
            #expect(keys.count > 5, "\(kind.section.name): \(keys.sorted())")
        }
        #expect(ConfigOverrides.knownKeys(HTTPPostService.self).isSuperset(of: ["url", "headers", "alert-template"]))
    }

    @Test("add an [[httppost]] endpoint over the API: a task's .post().endpoint() defined afterwards reaches it")
    func addEndpoint() async throws {
        let receiver = LoopbackReceiver()
        try await receiver.serve { url in
            let f = Fixture()
            defer { f.remove() }
            try await serveWithAlerting(f) { client in
                let add = try await client.execute(uri: "/kapacitor/v1/config/httppost", method: "POST",
                                                   body: #"{"add":{"endpoint":"alerts","url":""# + url + #"/alerts","headers":{"X-Test":"yes"}}}"#)
                #expect(add.status == .noContent, "\(add.text)")
                let element = try await client.execute(uri: "/kapacitor/v1/config/httppost/alerts")
                #expect(element.status == .ok)
                #expect(element.text.contains(#""endpoint":"alerts""#))
                let script = "stream|from().measurement('cpu')|alert().id('cpu').message('cpu is high').crit(lambda: TRUE).post().endpoint('alerts')"
                let define = #"{"id":"post","type":"stream","dbrps":[{"db":"telegraf","rp":"autogen"}],"status":"enabled","script":""# + script + #""}"#
                let defined = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: define)
                #expect(defined.status == .ok, "\(defined.text)")
                _ = try await client.execute(uri: "/write?db=telegraf&rp=autogen&precision=s", method: "POST", body: "cpu value=99 1\n")
                let requests = try await receiver.waitForRequests(1)
                #expect(requests[0].path == "/alerts")
                #expect(requests[0].body.contains(#""message":"cpu is high""#))
            }
        }
    }
}
