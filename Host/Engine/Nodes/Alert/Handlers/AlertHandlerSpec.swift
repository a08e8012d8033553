import TICKScript
import TockModel

/// A handler as a script or a topic handler names it: its kind (Kapacitor's topic-handler `kind`, such as
/// `slack` or `pagerduty2`) and its options, keyed as in Kapacitor's topic-handler options (`channel`,
/// `routing-key`, `icon-emoji`).
public struct AlertHandlerSpec: Sendable, Hashable {
    public var kind: String
    public var options: [String: HandlerOption]
    /// Where the script set it; `nil` for topic handlers.
    public var position: SourcePosition?
    /// Where the script set each option (by its key), so an error can point at the property.
    public var optionPositions: [String: SourcePosition] = [:]

    public init(kind: String, options: [String: HandlerOption] = [:], position: SourcePosition? = nil) {
        self.kind = kind
        self.options = options
        self.position = position
    }
}
