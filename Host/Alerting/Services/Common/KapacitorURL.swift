import Synchronization

/// Tock's own API address as handlers send it (PagerDuty's `client_url`), as Kapacitor sends its HTTP service's URL:
/// `http(s)://<hostname>:<port>/kapacitor/v1`. The daemon sets it once it listens; elsewhere (`tock run`) it stays
/// Kapacitor's default.
public enum KapacitorURL {
    private static let value = Mutex("http://localhost:9092/kapacitor/v1")

    public static var current: String { value.withLock { $0 } }

    /// Sets it from the configured `hostname` and the port the daemon is bound to.
    public static func set(hostname: String, port: Int, https: Bool) {
        let host = hostname.contains(":") && !hostname.hasPrefix("[") ? "[\(hostname)]" : hostname
        value.withLock { $0 = "\(https ? "https" : "http")://\(host):\(port)/kapacitor/v1" }
    }
}
