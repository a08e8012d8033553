import Glibc

/// A long-running program whose stdout is lines (Telegraf's `execd` inputs), run by the same supervisor as UDFs and
/// notifiers (``PluginConnection``: its own process group, stderr kept and handed over line by line, everything it
/// started stopped and reaped when it ends).
public final class LineProcess: Sendable {
    private let connection: PluginConnection

    /// Starts `program`.
    /// - Parameters:
    ///   - onLine: each line of stdout, without its newline; a reader thread.
    ///   - onStderr: each line of stderr.
    ///   - onEnd: once, when the program has ended and its output has been read.
    public init(program: String, arguments: [String], environment: [String: String] = [:], label: String,
                maxLineLength: Int = 1 << 20, grace: UInt64 = 1_000_000_000,
                onLine: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
                onStderr: @escaping @Sendable (String) -> Void,
                onEnd: @escaping @Sendable (ConnectionEnd) -> Void) throws {
        var options = PluginConnection.Options(label: label)
        options.framing = .lines
        options.maxFrameSize = maxLineLength
        options.grace = grace
        connection = try PluginConnection(endpoint: .process(program: program, arguments: arguments, environment: environment),
                                          options: options,
                                          handlers: .init(frame: { onLine($0) }, stderrLine: onStderr, ended: onEnd))
    }

    /// The program's process ID.
    public var pid: pid_t? { connection.pid }

    /// Writes `bytes` to the program's stdin (Telegraf's `signal = "STDIN"` writes a newline); `false` when its
    /// input is closed.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        connection.send(control: true) { $0.append(contentsOf: bytes) }
    }

    /// Sends `signal` to the program (`SIGHUP`, `SIGUSR1`, `SIGUSR2`).
    public func signal(_ signal: Int32) {
        if let pid = connection.pid { _ = kill(pid, signal) }
    }

    /// Stops the program: closes its stdin, then after the grace period SIGTERM to its group, then SIGKILL.
    public func stop() {
        connection.closeInput()
        let connection = self.connection
        startThread(name: "s:" + connection.options.label) {
            if !connection.waitUntilEnded(timeout: connection.options.grace) {
                connection.abort(.drainTimeout(timeout: connection.options.grace))
            }
        }
    }

    /// The last lines it wrote to stderr.
    public var recentStderr: [String] { connection.recentStderr }
}
