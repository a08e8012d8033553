import Foundation

/// `.log(path)`: appends each event's JSON line to a file, opened for every event as Kapacitor does,
/// so the file can be rotated underneath. A file the handler creates gets exactly `.mode()`, whatever the
/// process's umask. (The `Alerting` module's log service delivers through it too.)
public struct LogHandler: AlertHandler {
    public let path: String
    /// The permissions of a file the handler creates (Kapacitor's default 0600).
    public let mode: UInt32

    public init(path: String, mode: UInt32) {
        self.path = path
        self.mode = mode
    }

    var name: String { "log \(path)" }

    /// Appends `body`; the error says what failed on which file.
    public func deliver(_ body: [UInt8]) throws {
        var fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        if fd >= 0 {
            // Created now: the umask may have cleared bits of the mode asked for.
            _ = fchmod(fd, mode_t(mode))
        } else if errno == EEXIST {
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode_t(mode))
        }
        guard fd >= 0 else {
            throw AlertHandlerError("failed to open file for alert logging: \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        try writeAll(fd, body, what: path)
    }
}

/// Writes every byte of `bytes` to `fd`, retrying on short writes and EINTR. With `socket`, uses
/// `send(MSG_NOSIGNAL)` so a peer that went away is an error, not a SIGPIPE.
func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String, socket: Bool = false) throws {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBufferPointer { buf in
            socket
                ? send(fd, buf.baseAddress! + offset, buf.count - offset, Int32(MSG_NOSIGNAL))
                : write(fd, buf.baseAddress! + offset, buf.count - offset)
        }
        if n < 0 {
            if errno == EINTR { continue }
            throw AlertHandlerError("write to \(what) failed: \(String(cString: strerror(errno)))")
        }
        offset += n
    }
}
