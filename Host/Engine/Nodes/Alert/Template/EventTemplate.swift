/// A Go `text/template` a handler renders per event over Kapacitor's `alert.TemplateData` (`ID`, `Message`,
/// `Level`, `Time`, `Duration`, `Name`, `TaskName`, `Group`, `Tags`, `Fields`), as snmpTrap renders its data values.
public struct EventTemplate: Sendable {
    private let template: AlertTemplate

    /// Parses `source`; the error names the template and what is wrong (an unknown field, a syntax error).
    public init(name: String, source: String) throws(EventTemplateError) {
        do { template = try AlertTemplate(name: name, source: source, kind: .event) } catch {
            throw EventTemplateError(message: error.description)
        }
    }

    public func render(_ event: AlertEvent) throws(EventTemplateError) -> String {
        let data: TemplateValue = .record(typeName: "alert.TemplateData", [
            ("ID", .string(event.id)),
            ("Message", .string(event.message)),
            ("Level", .string(event.level.description)),
            ("Time", .time(event.time)),
            ("Duration", .duration(event.duration)),
            ("Name", .string(event.name)),
            ("TaskName", .string(event.taskName)),
            ("Group", .string(event.group.rawValue.isEmpty ? "nil" : event.group.rawValue)),
            ("Tags", .stringMap(event.tags.map { ($0.key, $0.value) })),
            ("Fields", .anyMap(event.fields.map { ($0.key, TemplateValue($0.value)) })),
        ])
        do { return try template.render(data) } catch { throw EventTemplateError(message: error.description) }
    }
}

/// A handler template that does not parse or render.
public struct EventTemplateError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
