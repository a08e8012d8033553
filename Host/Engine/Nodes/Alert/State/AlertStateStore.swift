import TockModel

/// Where alert nodes keep the last level of each alert between runs of a task, so that an alert that was
/// CRITICAL before a restart or an update is still CRITICAL after it (as Kapacitor remembers it): a
/// repeated CRITICAL is not news under `.stateChangesOnly()`, and the next OK is a recovery.
///
/// Called on the task's executor thread: only when a group is first seen and when an alert's level changes.
public protocol AlertStateStore: Sendable {
    /// The level the alert `alertID` of the node last had, and when; `nil` when it never fired.
    func lastLevel(taskID: String, nodeID: String, alertID: String) -> (level: AlertLevel, time: Int64)?
    /// Records a new level of the alert.
    func save(taskID: String, nodeID: String, alertID: String, level: AlertLevel, time: Int64)
}
