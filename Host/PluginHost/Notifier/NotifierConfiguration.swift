import PluginSupervisor
import TockModel

/// One `[notifiers.NAME]` section: a notifier plugin, run as a child process by the same supervisor as UDFs.
///
/// ```toml
/// [notifiers.pager]
///   prog = "/usr/bin/python3"
///   args = ["-u", "/etc/tock/notifiers/pager.py"]
///   timeout = "10s"          # handshake and keepalive answers
///   concurrency = 4          # events in flight at once (at most what the plugin allows)
///   attempt-timeout = "30s"  # one delivery attempt
///   retry-max-attempts = 5
///   retry-initial-backoff = "1s"
///   retry-max-backoff = "1m"
///   [notifiers.pager.env]
///     PAGER_URL = "http://127.0.0.1:8080"
/// ```
public struct NotifierConfiguration: Sendable, Hashable {
    /// The name scripts and topic handlers use (`.notify('pager')`, `kind: pager`).
    public var name: String
    public var endpoint: PluginEndpoint
    /// Nanoseconds to answer the handshake and each keepalive.
    public var timeout: Int64 = 10 * GoDuration.second
    /// Events in flight at once, at most what the plugin's handshake allows.
    public var concurrency: Int = 4
    /// Nanoseconds one delivery attempt may take.
    public var attemptTimeout: Int64 = 30 * GoDuration.second
    /// Attempts per event before it is dead-lettered.
    public var retryMaxAttempts: Int = 5
    public var retryInitialBackoff: Int64 = GoDuration.second
    public var retryMaxBackoff: Int64 = GoDuration.minute
    /// The line of the section in the configuration file.
    public var line: Int?

    public init(name: String, endpoint: PluginEndpoint, line: Int? = nil) {
        self.name = name
        self.endpoint = endpoint
        self.line = line
    }
}
