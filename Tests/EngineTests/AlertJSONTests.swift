import Testing
import TockModel
@testable import Engine

@Suite("Alert JSON")
struct AlertJSONTests {
    typealias F = AlertFixtures

    /// `cpu,host=serverA value=91.5` at 2016-01-01T00:00:10.5Z through `alert().crit(lambda: "value" > 90)`.
    static let point = Message.point(Point(
        name: "cpu", tags: ["host": "serverA"], fields: ["value": .double(91.5)],
        time: 1_451_606_410_500_000_000))

    @Test func theDocumentMatchesKapacitorsKeyOrderAndSpelling() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(crit: F.above(90))
            $0.detailsTemplate = try AlertTemplate(name: "details", source: "", kind: .details)
        })
        let out = AlertRecordingOutput()
        try node.receive(Self.point, port: 0, output: out)
        #expect(out.alerts == [
            #"{"id":"cpu:nil","message":"cpu:nil is CRITICAL","details":"","time":"2016-01-01T00:00:10.5Z","duration":0,"level":"CRITICAL","data":{"series":[{"name":"cpu","tags":{"host":"serverA"},"columns":["time","value"],"values":[["2016-01-01T00:00:10.5Z",91.5]]}]},"previousLevel":"OK","recoverable":true}"#
        ])
    }

    @Test func theDefaultDetailsAreTheHTMLEscapedJSONOfTheTemplateData() throws {
        let node = AlertNode(options: try F.options { $0.selector = LevelSelector(crit: F.above(90)) })
        let out = AlertRecordingOutput()
        try node.receive(Self.point, port: 0, output: out)
        let details = #""details":"{\u0026#34;Name\u0026#34;:\u0026#34;cpu\u0026#34;,\u0026#34;TaskName\u0026#34;:\u0026#34;cpu_alert\u0026#34;,\u0026#34;Group\u0026#34;:\u0026#34;nil\u0026#34;,\u0026#34;Tags\u0026#34;:{\u0026#34;host\u0026#34;:\u0026#34;serverA\u0026#34;},\u0026#34;ServerInfo\u0026#34;:{\u0026#34;Hostname\u0026#34;:\u0026#34;localhost\u0026#34;,\u0026#34;ClusterID\u0026#34;:\u0026#34;\u0026#34;,\u0026#34;ServerID\u0026#34;:\u0026#34;\u0026#34;},\u0026#34;ID\u0026#34;:\u0026#34;cpu:nil\u0026#34;,\u0026#34;Fields\u0026#34;:{\u0026#34;value\u0026#34;:91.5},\u0026#34;Level\u0026#34;:\u0026#34;CRITICAL\u0026#34;,\u0026#34;Time\u0026#34;:\u0026#34;2016-01-01T00:00:10.5Z\u0026#34;,\u0026#34;Duration\u0026#34;:0,\u0026#34;Message\u0026#34;:\u0026#34;cpu:nil is CRITICAL\u0026#34;}\n","#
        #expect(out.alerts.count == 1)
        #expect(out.alerts[0].contains(details))
    }

    /// The expected body in Kapacitor's server_test.go for a point `alert value=1` at the epoch.
    @Test func kapacitorsServerTestBody() throws {
        let event = AlertEvent(
            id: "id", message: "message", details: "details", time: 0, duration: 0, level: .critical,
            previousLevel: .ok, recoverable: true,
            data: .point(Point(name: "alert", fields: ["value": .double(1)], time: 0)))
        #expect(event.json == #"{"id":"id","message":"message","details":"details","time":"1970-01-01T00:00:00Z","duration":0,"level":"CRITICAL","data":{"series":[{"name":"alert","columns":["time","value"],"values":[["1970-01-01T00:00:00Z",1]]}]},"previousLevel":"OK","recoverable":true}"#)
    }

    @Test func groupedIdsAndHTMLSensitiveMessages() throws {
        let node = AlertNode(options: try F.options {
            $0.selector = LevelSelector(crit: F.above(90))
            $0.messageTemplate = try AlertTemplate(name: "message", source: "{{ .ID }} > 90", kind: .message)
        })
        let out = AlertRecordingOutput()
        try node.receive(F.point(95, tags: ["host": "a", "cpu": "0"], group: ["host"]), port: 0, output: out)
        #expect(out.alerts[0].hasPrefix(#"{"id":"cpu:host=a","message":"cpu:host=a \u003e 90","#))
    }
}
