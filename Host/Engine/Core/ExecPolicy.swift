/// Which programs a task may start with alert `.exec()` handlers.
///
/// `tock run` builds tasks with ``unrestricted`` (the user runs their own script); the daemon builds tasks
/// defined over its API with an allow-list from its configuration, so an API client cannot run arbitrary
/// programs on the daemon's host.
public struct ExecPolicy: Sendable, Hashable {
    /// The programs allowed, exactly as a script must name them; `nil` allows every program.
    public var allowedPrograms: Set<String>?
    /// The configuration setting that holds the list, named in refusals (`[alert] exec-allowed`).
    public var setting: String

    /// Every program may run.
    public static let unrestricted = ExecPolicy(allowedPrograms: nil, setting: "")

    public init(allowedPrograms: Set<String>?, setting: String) {
        self.allowedPrograms = allowedPrograms
        self.setting = setting
    }

    /// `nil` when `program` may run, else why not (naming the program and the setting).
    public func refusal(of program: String) -> String? {
        guard let allowed = allowedPrograms, !allowed.contains(program) else { return nil }
        let list = allowed.isEmpty ? "it is empty" : "it holds " + allowed.sorted().joined(separator: ", ")
        return "program \(program) is not allowed: add its exact path to \(setting) in the daemon's configuration (\(list))"
    }
}
