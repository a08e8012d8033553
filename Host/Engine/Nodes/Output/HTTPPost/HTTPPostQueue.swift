import Foundation
import TockModel

/// The requests of one `httpPost` node, sent one at a time in order: at most `capacity` wait, so a receiver that
/// is down or slow costs a bounded amount of memory and one timeout per request, never the task's executor.
/// Once the input has ended, a request that fails below HTTP drops the ones still waiting (counted as one error),
/// so a dead receiver delays the task's end by one timeout, not one per request.
///
/// Outcomes are reported through the node's ``NodeOutput``: failures with ``NodeOutput/countError(_:)``, and, with a
/// code field, the data with its status code through ``NodeOutput/post(_:)`` (in order).
final class HTTPPostQueue: @unchecked Sendable {
    private struct Job {
        var request: OutboundPost
        var url: String
        /// The data to hand on with the status code (only with a code field).
        var message: Message?
    }

    private let lock = NSLock()
    private var waiting: [Job] = []
    private var inFlight = false
    private var stopping = false
    let capacity: Int
    let output: any NodeOutput
    let codeField: String?
    let captureResponse: Bool
    let poster: any HTTPPoster

    init(capacity: Int, output: any NodeOutput, codeField: String?, captureResponse: Bool, poster: any HTTPPoster) {
        self.poster = poster
        self.capacity = capacity
        self.output = output
        self.codeField = codeField
        self.captureResponse = captureResponse
    }

    /// Queues a request; `false` (nothing queued) when `capacity` requests are already waiting or in flight.
    func submit(_ request: OutboundPost, url: String, message: Message?) -> Bool {
        let job = Job(request: request, url: url, message: message)
        lock.lock()
        if waiting.count + (inFlight ? 1 : 0) >= capacity {
            lock.unlock()
            return false
        }
        if inFlight {
            waiting.append(job)
            lock.unlock()
            return true
        }
        inFlight = true
        lock.unlock()
        send(job)
        return true
    }

    /// Marks the input as ended: `true` when nothing is left to send, else the node finishes once the queue drains.
    func stop() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        stopping = true
        return !inFlight
    }

    private func send(_ job: Job) {
        poster.post(job.request) { [self] outcome in
            report(outcome, of: job)
            lock.lock()
            if stopping, outcome.error != nil, !waiting.isEmpty {
                // The input has ended and the receiver is down or hung: give up on the rest rather than make the
                // task's end wait a timeout per request.
                let dropped = waiting
                waiting.removeAll()
                lock.unlock()
                output.countError(HTTPPostError(
                    "\(dropped.count) POSTs to \(job.url) dropped at the end of the task: the receiver did not answer"))
                for d in dropped where d.message != nil {
                    output.post(HTTPPostNode.withCode(d.message!, 0, field: codeField))
                }
                lock.lock()
            }
            if waiting.isEmpty {
                inFlight = false
                let finished = stopping
                lock.unlock()
                if finished { output.finish() }
                return
            }
            let next = waiting.removeFirst()
            lock.unlock()
            send(next)
        }
    }

    /// Logs and counts a failure as Kapacitor's doPost does; hands the data on with its code.
    private func report(_ outcome: HTTPOutcome, of job: Job) {
        if let error = outcome.error {
            output.countError(HTTPPostError("failed to POST data to \(job.url): \(error)"))
        } else if !outcome.succeeded {
            let detail = captureResponse
                ? String(decoding: outcome.bodyPrefix, as: UTF8.self)
                : "unknown error, use .captureResponse() to capture the HTTP response"
            output.countError(HTTPPostError(
                "POST to \(job.url) returned non 2xx status code \(outcome.status.map(String.init) ?? "none"): \(detail)"))
        }
        if let message = job.message {
            output.post(HTTPPostNode.withCode(message, outcome.error == nil ? outcome.status ?? 0 : 0, field: codeField))
        }
    }
}
