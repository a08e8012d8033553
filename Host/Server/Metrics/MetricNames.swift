/// The names of the daemon's metrics and their `# HELP` text. Labels, in the order `/metrics` writes them:
/// `tock_points_received_total` by `database`, `retention_policy` and `measurement`; the task and node metrics by
/// `task` (and `node`); the alert handler metrics by `task`, `node` and `handler`; the collector metrics by `collector`.
enum MetricNames {
    static let pointsReceived = "tock_points_received_total"
    static let writeRequests = "tock_write_requests_total"
    static let writeErrors = "tock_write_errors_total"
    static let loadErrors = "tock_load_errors_total"
    static let udfRestarts = "tock_udf_restarts_total"
    static let queuedPoints = "tock_task_queued_points"
    static let nodeIn = "tock_node_in_total"
    static let nodeOut = "tock_node_out_total"
    static let nodeErrors = "tock_node_errors_total"
    static let alertsSent = "tock_alert_handler_sent_total"
    static let alertsRetried = "tock_alert_handler_retried_total"
    static let alertsFailed = "tock_alert_handler_failed_total"
    static let alertsDropped = "tock_alert_handler_dropped_total"
    static let alertsQueued = "tock_alert_handler_queued"
    static let hosts = "tock_hosts"
    static let hostSeries = "tock_host_recent_series"
    static let hostValues = "tock_host_recent_values"
    static let hostRefusedSeries = "tock_host_refused_series_total"
    static let hostStoredSeries = "tock_host_stored_series"
    static let hostStoredValues = "tock_host_stored_values"
    static let collectorGathers = "tock_collector_gathers_total"
    static let collectorErrors = "tock_collector_errors_total"
    static let collectorTimeouts = "tock_collector_timeouts_total"

    static let help: [String: String] = [
        pointsReceived: "Points accepted by /write, by database, retention policy and measurement.",
        writeRequests: "Requests to /write.",
        writeErrors: "Bad lines rejected by /write.",
        loadErrors: "Files the [load] service could not load.",
        udfRestarts: "Restarts of a task's UDF child processes, by node.",
        queuedPoints: "Points written to a task and not yet processed.",
        nodeIn: "Messages received by a task's node.",
        nodeOut: "Messages emitted by a task's node.",
        nodeErrors: "Messages whose processing failed in a task's node.",
        alertsSent: "Alert events an alert handler delivered.",
        alertsRetried: "Deliveries an alert handler attempted again after a retryable failure.",
        alertsFailed: "Alert events an alert handler gave up on.",
        alertsDropped: "Alert events an alert handler dropped unsent because its queue was full.",
        alertsQueued: "Alert events waiting in an alert handler's queue.",
        hosts: "Hosts in the host inventory.",
        hostSeries: "Series of the hosts' recent metrics kept in memory.",
        hostValues: "Values of the hosts' recent metrics kept in memory.",
        hostRefusedSeries: "New series of the hosts' recent metrics not kept because [hosts] max-series was reached.",
        hostStoredSeries: "Series of the hosts' recent metrics in the store.",
        hostStoredValues: "Values of the hosts' recent metrics in the store.",
        collectorGathers: "Gathers of a [[collectors.NAME]] section.",
        collectorErrors: "Gathers of a collector section that failed, timed out or were skipped as busy.",
        collectorTimeouts: "Gathers of a collector section still running at its timeout.",
    ]
}
