import Testing
import TockModel
@testable import Engine

@Suite("Alert templates")
struct AlertTemplateTests {
    /// The data a message template sees for a point of `cpu,host=serverA value=91.5` at 2016-01-01T00:00:10.5Z.
    static let info = TemplateValue.record(typeName: "kapacitor.messageInfo", [
        ("Name", .string("cpu")),
        ("TaskName", .string("cpu_alert")),
        ("Group", .string("host=serverA")),
        ("Tags", .stringMap([("host", "serverA"), ("region", "eu")])),
        ("ServerInfo", .record(typeName: "kapacitor.serverInfo", [("Hostname", .string("localhost")), ("ClusterID", .string("")), ("ServerID", .string(""))])),
        ("ID", .string("cpu:host=serverA")),
        ("Fields", .anyMap([("count", .int(3)), ("value", .float(91.5))])),
        ("Level", .string("CRITICAL")),
        ("Time", .time(1_451_606_410_500_000_000)),
        ("Duration", .duration(90 * GoDuration.second)),
    ])

    func render(_ source: String, kind: AlertTemplate.Kind = .message) throws -> String {
        try AlertTemplate(name: "message", source: source, kind: kind).render(Self.info)
    }

    @Test func fieldsAndIndex() throws {
        #expect(try render("{{ .ID }} is {{ .Level }}") == "cpu:host=serverA is CRITICAL")
        #expect(try render("{{ index .Tags \"host\" }}/{{ .Tags.region }}") == "serverA/eu")
        #expect(try render("{{ index .Fields \"value\" }} {{ index .Fields \"count\" }}") == "91.5 3")
        #expect(try render("[{{ index .Tags \"missing\" }}] [{{ index .Fields \"missing\" }}]") == "[] [<no value>]")
        #expect(try render("{{ .Name }}:{{ .TaskName }}:{{ .Group }}:{{ .ServerInfo.Hostname }}") == "cpu:cpu_alert:host=serverA:localhost")
    }

    @Test func goSpellingsOfTimesDurationsAndMaps() throws {
        #expect(try render("{{ .Time }}") == "2016-01-01 00:00:10.5 +0000 UTC")
        #expect(try render("{{ .Duration }}") == "1m30s")
        #expect(try render("{{ .Tags }}") == "map[host:serverA region:eu]")
        #expect(try render("{{ .Fields }}") == "map[count:3 value:91.5]")
        #expect(try render("{{ .Time.Unix }} {{ .Duration.Seconds }}") == "1451606410 90")
    }

    @Test func timeFormatUsesGosReferenceLayout() throws {
        #expect(try render("{{ .Time.Format \"2006-01-02 15:04:05\" }}") == "2016-01-01 00:00:10")
        #expect(try render("{{ .Time.Format \"Mon Jan _2 3:04:05.000PM MST\" }}") == "Fri Jan  1 12:00:10.500AM UTC")
        #expect(try render("{{ .Time.Format \"2006-01-02T15:04:05.999999999Z07:00\" }}") == "2016-01-01T00:00:10.5Z")
        #expect(try render("{{ .Time.Format \"January 2, 06 -0700 002\" }}") == "January 1, 16 +0000 001")
    }

    @Test func printfFormatsAsGo() throws {
        #expect(try render("{{ printf \"%0.2f\" (index .Fields \"value\") }}") == "91.50")
        #expect(try render("{{ index .Fields \"value\" | printf \"%.1f%%\" }}") == "91.5%")
        #expect(try render("{{ printf \"%d|%5d|%-4d|%05d\" 7 7 7 7 }}") == "7|    7|7   |00007")
        #expect(try render("{{ printf \"%s=%v\" \"x\" 1.0 }}") == "x=1")
        #expect(try render("{{ printf \"%d\" (index .Fields \"value\") }}") == "%!d(float64=91.5)")
        #expect(try render("{{ printf \"%q %t %x\" \"a\" true 255 }}") == "\"a\" true ff")
        #expect(try render("{{ printf \"%s\" }}") == "%!s(MISSING)")
        #expect(try render("{{ printf \"%e|%g|%g\" 1234.5678 1234.5678 1e21 }}") == "1.234568e+03|1234.5678|1e+21")
    }

    @Test func floatsPrintWithGosShortestForm() {
        #expect(GoFormat.floatV(61) == "61")
        #expect(GoFormat.floatV(0.1) == "0.1")
        #expect(GoFormat.floatV(1e6) == "1e+06")
        #expect(GoFormat.floatV(123456) == "123456")
        #expect(GoFormat.floatV(1234567) == "1.234567e+06")
        #expect(GoFormat.floatV(0.0001) == "0.0001")
        #expect(GoFormat.floatV(0.00001) == "1e-05")
        #expect(GoFormat.floatV(-2.5) == "-2.5")
        #expect(GoFormat.floatG(3.14159, precision: 3) == "3.14")
    }

    @Test func conditionalsAndComparisons() throws {
        let t = "{{ if gt (index .Fields \"value\") 90.0 }}hot{{ else if gt (index .Fields \"value\") 50.0 }}warm{{ else }}cold{{ end }}"
        #expect(try render(t) == "hot")
        #expect(try render("{{ if eq .Level \"OK\" }}fine{{ else }}{{ .Level }}{{ end }}") == "CRITICAL")
        #expect(try render("{{ if and (ne .Level \"OK\") (not false) }}y{{ end }}") == "y")
        #expect(try render("{{ or \"\" \"fallback\" }}") == "fallback")
        #expect(try render("{{ if lt 1 2.5 }}mixed{{ end }}") == "mixed")
    }

    @Test func rangeVariablesWithAndTrimMarkers() throws {
        #expect(try render("{{ range $k, $v := .Tags }}{{ $k }}={{ $v }};{{ end }}") == "host=serverA;region=eu;")
        #expect(try render("{{ range .Tags }}[{{ . }}]{{ end }}") == "[serverA][eu]")
        #expect(try render("{{ $id := .ID }}{{ with .Tags }}{{ .host }}@{{ $id }}{{ end }}") == "serverA@cpu:host=serverA")
        #expect(try render("a  {{- \" b \" -}}  c {{/* note */}}d") == "a b c d")
        #expect(try render("{{ len .Tags }} {{ print 1 2 \"x\" }} {{ html \"<b>\" }}") == "2 1 2x &lt;b&gt;")
    }

    @Test func detailsAreHTMLEscapedAndJSONIsAvailable() throws {
        let details = try AlertTemplate(name: "details", source: "<b>{{ .Level }}</b> {{ index .Tags \"host\" | printf \"%s<&>\" }}", kind: .details)
        #expect(try details.render(Self.info) == "<b>CRITICAL</b> serverA&lt;&amp;&gt;")
        let missing = try AlertTemplate(name: "details", source: "[{{ index .Fields \"missing\" }}]", kind: .details)
        #expect(try missing.render(Self.info) == "[]")
        let json = try AlertTemplate(name: "details", source: "{{ json .Tags }}", kind: .details)
        #expect(try json.render(Self.info) == "{&#34;host&#34;:&#34;serverA&#34;,&#34;region&#34;:&#34;eu&#34;}\n")
    }

    @Test func idsThatReadOnlyNameAndGroupAreKnownToBeConstantPerGroup() throws {
        #expect(try AlertTemplate(name: "id", source: "{{ .Name }}:{{ .Group }}", kind: .id).dependsOnlyOnNameAndGroup)
        #expect(try AlertTemplate(name: "id", source: "hotend", kind: .id).dependsOnlyOnNameAndGroup)
        #expect(try !AlertTemplate(name: "id", source: "{{ index .Tags \"host\" }}", kind: .id).dependsOnlyOnNameAndGroup)
        #expect(try !AlertTemplate(name: "id", source: "{{ with .Name }}{{ . }}{{ end }}", kind: .id).dependsOnlyOnNameAndGroup)
    }

    @Test func definitionErrorsNameTheTemplate() {
        let selfReference = #expect(throws: TemplateError.self) { try AlertTemplate(name: "id", source: "{{ .ID }}", kind: .id) }
        #expect(selfReference?.description.hasPrefix("template: id:") == true, "\(String(describing: selfReference))")
        do {
            _ = try AlertTemplate(name: "message", source: "{{ .Nope }}", kind: .message)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("template: message: can't evaluate field Nope in type kapacitor.messageInfo"))
        }
        do {
            _ = try AlertTemplate(name: "message", source: "x {{ foo .ID }}", kind: .message)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "template: message:1: function \"foo\" not defined")
        }
        for source in ["{{ if .ID }}x", "{{ template \"x\" }}", "{{ json . }}"] {
            let error = #expect(throws: TemplateError.self) { try AlertTemplate(name: "message", source: source, kind: .message) }
            #expect(error?.description.hasPrefix("template: message:") == true, "\(source): \(String(describing: error))")
        }
    }
}
