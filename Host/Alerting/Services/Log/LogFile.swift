import Foundation

/// The file of a `log` handler: each event's JSON line appended, the file opened for every event as Kapacitor does,
/// so it can be rotated underneath. A file the handler creates gets exactly `.mode()`, whatever the process's umask.
struct LogFile: Sendable {
    let path: String
    /// The permissions of a file the handler creates (Kapacitor's default 0600).
    let mode: UInt32

    /// Appends `body`; the error says what failed on which file.
    func append(_ body: [UInt8]) throws(LogFileError) {
        var fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        if fd >= 0 {
            // Created now: the umask may have cleared bits of the mode asked for.
            _ = fchmod(fd, mode_t(mode))
        } else if errno == EEXIST {
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode_t(mode))
        }
        guard fd >= 0 else {
            throw LogFileError("failed to open file for alert logging: \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var offset = 0
        while offset < body.count {
            let n = body.withUnsafeBufferPointer { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw LogFileError("write to \(path) failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}

/// Why a `log` handler could not append.
struct LogFileError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
