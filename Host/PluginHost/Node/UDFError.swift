import PluginSupervisor
import Foundation

/// A UDF that failed: which one, in which node, why, and what it last wrote to stderr.
///
/// Its description reads like
/// `UDF "tTest" (node tTest4) exited with status 1 after 1,200 points: ZeroDivisionError: division by zero; last stderr: Traceback … | ZeroDivisionError: division by zero`.
public struct UDFError: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable {
        /// No `[udf.functions.NAME]` of that name.
        case notConfigured
        /// The program could not be started, or the socket not reached.
        case unreachable(String)
        /// The connection failed while running: a crash, a missed keepalive, a bad frame, an error response.
        case connection(ConnectionFailure)
        /// The Info response could not be used (an unknown edge or option type).
        case badInfo(String)
        /// The UDF answered Init with `success = false`.
        case initFailed(String)
        /// The UDF answered Restore with `success = false`.
        case restoreFailed(String)
        /// The UDF answered a Snapshot request with an error (Kapacitor's Python examples do under Python 3:
        /// they set the bytes field to a `str`). A warning, never a failed task.
        case snapshotFailed(String)
        /// A script option that cannot be sent (a lambda, a regex, a list).
        case badOption(String)
        /// A request (Info, Init, Restore, Snapshot) got no answer in time.
        case noAnswer(request: String, timeout: Int64)
        /// The node is not running (it failed before, or was stopped).
        case notRunning(String)
    }

    /// The UDF's name (`@name()`).
    public var udf: String
    /// The node, when the failure happened in a task (`tTest4`); `nil` for the Info call at load.
    public var nodeID: String?
    public var reason: Reason
    /// Points (stream points and batch points) sent to this process before it failed, when it was running.
    public var pointsSent: Int?
    /// The last lines the process wrote to stderr, oldest first.
    public var stderrTail: [String]

    public init(udf: String, nodeID: String? = nil, reason: Reason, pointsSent: Int? = nil, stderrTail: [String] = []) {
        self.udf = udf
        self.nodeID = nodeID
        self.reason = reason
        self.pointsSent = pointsSent
        self.stderrTail = stderrTail
    }

    /// Whether restarting cannot help: the UDF rejected its options or snapshot, or cannot be reached
    /// at all in the first place.
    public var isPermanent: Bool {
        switch reason {
        case .initFailed, .restoreFailed, .badOption, .badInfo, .notConfigured, .notRunning: return true
        case .unreachable, .connection, .noAnswer, .snapshotFailed: return false
        }
    }

    /// The reason in a few words, without the specifics.
    public var headline: String {
        switch reason {
        case .notConfigured: return "is not configured (no [udf.functions.\(udf)] table)"
        case .unreachable: return "could not be started"
        case .connection(let failure): return failure.headline
        case .badInfo: return "sent an unusable Info response"
        case .initFailed: return "failed to initialize"
        case .restoreFailed: return "error restoring snapshot"
        case .snapshotFailed: return "could not snapshot"
        case .badOption: return "cannot take an option"
        case .noAnswer(let request, let timeout):
            return "did not answer the \(request) request within \(formatNanos(UInt64(max(timeout, 0))))"
        case .notRunning(let detail): return "is not running: \(detail)"
        }
    }

    /// The specifics of the reason, when there are any (the UDF's own message).
    public var detail: String? {
        switch reason {
        case .unreachable(let d), .badInfo(let d), .initFailed(let d), .restoreFailed(let d), .snapshotFailed(let d),
             .badOption(let d): return d
        case .connection(let failure): return failure.detail
        default: return nil
        }
    }

    /// The reason with its specifics, without the UDF's name.
    public var reasonText: String { headline + (detail.map { ": " + $0 } ?? "") }

    public var description: String {
        var s = "UDF \"\(udf)\""
        if let nodeID { s += " (node \(nodeID))" }
        s += " " + headline
        if let pointsSent { s += " after \(UDFError.grouped(pointsSent)) point\(pointsSent == 1 ? "" : "s")" }
        var summarized = false
        if let detail {
            s += ": " + detail
        } else if case .connection(let failure) = reason, failure.isCrash,
                  let last = stderrTail.last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            // A crashed program's last words usually say why (a Python exception).
            s += ": " + last.trimmingCharacters(in: .whitespaces)
            summarized = true
        }
        if !stderrTail.isEmpty && !(summarized && stderrTail.count == 1) {
            let shown = stderrTail.suffix(10).map { $0.trimmingCharacters(in: .whitespaces) }
            s += "; last stderr: " + shown.joined(separator: " | ")
        }
        return s
    }

    /// `1200` → `1,200`.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }
}

extension ConnectionFailure {
    /// The plugin went away by itself: its last stderr line usually says why.
    var isCrash: Bool {
        switch self {
        case .exited, .connectionClosed: return true
        default: return false
        }
    }
}
