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

    /// Kapacitor's alert JSON (`alert.Data` as Go's `json.Marshal` writes it), without a trailing newline:
    /// `{"id":…,"message":…,"details":…,"time":…,"duration":…,"level":…,"data":{"series":[…]},"previousLevel":…,"recoverable":…}`.
    public var json: String {
        var out = "{\"id\":"
        GoJSON.appendString(id, to: &out)
        out += ",\"message\":"
        GoJSON.appendString(message, to: &out)
        out += ",\"details\":"
        GoJSON.appendString(details, to: &out)
        out += ",\"time\":\""
        out += RFC3339Nano.format(time)
        out += "\",\"duration\":"
        out += String(duration)
        out += ",\"level\":\""
        out += level.description
        out += "\",\"data\":"
        out += Series.result([data])
        out += ",\"previousLevel\":\""
        out += previousLevel.description
        out += "\",\"recoverable\":"
        out += recoverable ? "true" : "false"
        out += "}"
        return out
    }
}
