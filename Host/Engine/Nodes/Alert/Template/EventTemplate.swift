import TockModel

/// A Go `text/template` an alert service renders over one event: a `[[httppost]]` endpoint's `alert-template`,
/// Alerta's `resource`, Sensu's `source`, ServiceNow's `node`.
///
/// Each service hands its template one of Kapacitor's Go structs; ``Data`` names which, so a template that reads a
/// field the struct does not have is refused when the handler is made, as Go refuses it when the template runs.
public struct EventTemplate: Sendable {
    /// The Go value a service's template sees.
    public enum Data: Sendable, Hashable {
        /// `alert.Data` (httppost's body and URL): ID, Message, Details, Time, Duration, Level, Data, PreviousLevel,
        /// Recoverable. `{{ json . }}` writes the alert JSON.
        case alertData
        /// `alert.TemplateData` (Alerta, Sensu, BigPanda): ID, Message, Level, Time, Duration, Name, TaskName, Group,
        /// Tags, Fields.
        case templateData
        /// A service's own struct of these fields, under its Go type name (Alerta's `eventData`, ServiceNow's
        /// `dataInfo`, Zenoss's anonymous struct).
        case fields(typeName: String, [String])

        var typeName: String {
            switch self {
            case .alertData: "alert.Data"
            case .templateData: "alert.TemplateData"
            case .fields(let name, _): name
            }
        }

        var fieldNames: [String] {
            switch self {
            case .alertData: ["ID", "Message", "Details", "Time", "Duration", "Level", "Data", "PreviousLevel", "Recoverable"]
            case .templateData: ["ID", "Message", "Level", "Time", "Duration", "Name", "TaskName", "Group", "Tags", "Fields"]
            case .fields(_, let names): names
            }
        }
    }

    /// A template that does not parse or fails while rendering, worded as Go's errors are
    /// (`template: resource:1: function "foo" not defined`).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public let source: String
    private let template: AlertTemplate
    private let data: Data

    /// Parses `source`. `json` adds the `json` function (Kapacitor's httppost adds it to templates given inline).
    public init(name: String, source: String, data: Data, json: Bool = false) throws(Failure) {
        self.source = source
        self.data = data
        do {
            template = try AlertTemplate(name: name, source: source,
                                         kind: .event(typeName: data.typeName, fields: data.fieldNames, json: json))
        } catch {
            throw Failure(description: error.description)
        }
    }

    /// Renders the template over `event`.
    public func render(_ event: AlertEvent) throws(Failure) -> String {
        let fields = data.fieldNames.map { ($0, event.templateValue(of: $0)) }
        var root = TemplateValue.record(typeName: data.typeName, fields)
        if data == .alertData { root = .tagged(root, json: event.json) }
        do {
            return try template.render(root)
        } catch {
            throw Failure(description: error.description)
        }
    }
}

extension AlertEvent {
    /// One field of the Go structs Kapacitor's services render templates with, as the struct holds it.
    func templateValue(of field: String) -> TemplateValue {
        switch field {
        case "ID": .string(id)
        case "Message": .string(message)
        case "Details": .string(details)
        case "Time": .time(time)
        case "Duration": .duration(duration)
        case "Level": .string(level.description)
        case "PreviousLevel": .string(previousLevel.description)
        case "Recoverable": .bool(recoverable)
        case "Name": .string(name)
        case "TaskName": .string(taskName)
        case "Group": .string(group.rawValue.isEmpty ? "nil" : group.rawValue)
        case "Tags": .stringMap(tags.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 })
        case "Fields": .anyMap(fields.map { ($0.key, TemplateValue($0.value)) }.sorted { $0.0 < $1.0 })
        case "Data": resultValue
        default: .null
        }
    }

    /// `models.Result`: `Series` of rows with `Name`, `Tags`, `Columns`, `Values`, `Partial`.
    private var resultValue: TemplateValue {
        let row = SeriesRow(data)
        let values: [TemplateValue] = row.values.map { cells in
            .list(elementType: "interface {}", cells.map { cell in
                switch cell {
                case .time(let t): .time(t)
                case .value(let v): TemplateValue(v)
                case .tag(let s): .string(s)
                case .null: .null
                }
            })
        }
        let rowValue = TemplateValue.record(typeName: "*models.Row", [
            ("Name", .string(row.name)),
            ("Tags", .stringMap(row.tags.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 })),
            ("Columns", .list(elementType: "string", row.columns.map { .string($0) })),
            ("Values", .list(elementType: "[]interface {}", values)),
            ("Partial", .bool(false)),
        ])
        let series = TemplateValue.list(elementType: "*models.Row", [rowValue])
        return .tagged(.record(typeName: "models.Result", [("Series", series), ("Messages", .null), ("Err", .null)]),
                       json: Series.result([row]))
    }
}
