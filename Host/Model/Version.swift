/// Tock's version, as `tock --version` prints it and the agent reports it in its `tock_agent` heartbeats.
public enum TockVersion {
    /// The version of this build.
    public static let current = "0.1.0"
}
