import TockModel

/// One alert event: what handlers receive and what the task publishes.
public struct AlertEvent: Sendable, Hashable {
    public var id: String
    public var message: String
    public var details: String
    public var time: Timestamp
    /// Nanoseconds since the alert first triggered (0 for the first event of an alert).
    public var duration: Int64
    public var level: AlertLevel
    /// The level of the previous event with the same ID (OK before the first).
    public var previousLevel: AlertLevel
    /// `false` when the alert has `.noRecoveries()`.
    public var recoverable: Bool
    /// The data that triggered the event, before augmentation: one point or the whole batch.
    public var data: Message
    /// The task's ID (`.TaskName` in templates).
    public var taskName: String
    /// The measurement (`.Name`).
    public var name: String
    /// The group (`.Group`; empty when ungrouped).
    public var group: GroupID
    /// The point's or batch's tags (`.Tags`).
    public var tags: Tags
    /// The fields of the point, or of the batch point that set the level (`.Fields`).
    public var fields: Fields
    /// `.category()`, if set.
    public var category: String?

    public init(id: String, message: String, details: String, time: Timestamp, duration: Int64, level: AlertLevel,
                previousLevel: AlertLevel, recoverable: Bool, data: Message, taskName: String = "", name: String = "",
                group: GroupID = GroupID(""), tags: Tags = [:], fields: Fields = [:], category: String? = nil) {
        self.id = id
        self.message = message
        self.details = details
        self.time = time
        self.duration = duration
        self.level = level
        self.previousLevel = previousLevel
        self.recoverable = recoverable
        self.data = data
        self.taskName = taskName
        self.name = name
        self.group = group
        self.tags = tags
        self.fields = fields
        self.category = category
    }

    /// Kapacitor's alert JSON (`alert.Data` as Go's `json.Marshal` writes it), without a trailing newline:
    /// `{"id":…,"message":…,"details":…,"time":…,"duration":…,"level":…,"data":{"series":[…]},"previousLevel":…,"recoverable":…}`.
    public var json: String {
        String(decoding: jsonBytes, as: UTF8.self)
    }

    /// ``json`` as UTF-8.
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        appendJSON(to: &out)
        return out
    }

    /// ``json`` and a newline as UTF-8, as handlers that write a line per event (Go's `json.Encoder`) send it.
    public var jsonLine: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        appendJSON(to: &out)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// Appends ``json``'s text as UTF-8, building no intermediate strings.
    public func appendJSON(to out: inout [UInt8]) {
        GoJSON.appendLiteral("{\"id\":", to: &out)
        GoJSON.appendString(id, to: &out)
        GoJSON.appendLiteral(",\"message\":", to: &out)
        GoJSON.appendString(message, to: &out)
        GoJSON.appendLiteral(",\"details\":", to: &out)
        GoJSON.appendString(details, to: &out)
        GoJSON.appendLiteral(",\"time\":", to: &out)
        GoJSON.appendTime(time, to: &out)
        GoJSON.appendLiteral(",\"duration\":", to: &out)
        GoJSON.appendInt(duration, to: &out)
        GoJSON.appendLiteral(",\"level\":\"", to: &out)
        out.append(contentsOf: level.description.utf8)
        GoJSON.appendLiteral("\",\"data\":", to: &out)
        Series.appendResult([data], to: &out)
        GoJSON.appendLiteral(",\"previousLevel\":\"", to: &out)
        out.append(contentsOf: previousLevel.description.utf8)
        GoJSON.appendLiteral("\",\"recoverable\":", to: &out)
        GoJSON.appendLiteral(recoverable ? "true}" : "false}", to: &out)
    }
}
