import Dispatch

/// Runs blocking work (file writes, waiting for a child process) on a Dispatch thread, off Swift's cooperative
/// pool, and returns its result.
func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
        DispatchQueue.global().async { c.resume(returning: work()) }
    }
}
