import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Opens a file in a real browser, Debian's `chromium` run headless, and hands back the DOM it built and what the
/// page wrote to its console (script errors, resources refused by the page's Content-Security-Policy, …).
public enum HeadlessChromium {
    /// Where Debian's `chromium` package puts the browser; `TOCK_CHROMIUM` overrides it.
    public static var path: String {
        ProcessInfo.processInfo.environment["TOCK_CHROMIUM"] ?? "/usr/bin/chromium"
    }

    /// Whether the browser is there. Tests that need it are skipped otherwise, saying so
    /// (`.enabled(if: HeadlessChromium.isInstalled, "chromium is not installed (apt-get install chromium)")`).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    public struct Page: Sendable {
        /// The DOM after loading, serialized (`--dump-dom`).
        public var dom: String
        /// The console messages (`CONSOLE` lines of Chromium's log).
        public var console: [String]
        /// The browser's whole standard error, for failure messages.
        public var log: String

        /// How many times `needle` occurs in the DOM.
        public func count(_ needle: String) -> Int {
            dom.components(separatedBy: needle).count - 1
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Loads `file` in `chromium --headless --no-sandbox --disable-gpu`, with console messages logged to standard error.
    public static func load(_ file: String, timeout: Double = 90) throws -> Page {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--v=0",
                             "--user-data-dir=\(home.path)", "--virtual-time-budget=2000", "--dump-dom",
                             URL(fileURLWithPath: file).absoluteString]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home.path
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let started = Date()
        let killer = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        defer { killer.cancel() }
        nonisolated(unsafe) var errData = Data()
        let errThread = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        errThread.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errThread.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        let log = String(decoding: errData, as: UTF8.self)
        if Date() >= started.addingTimeInterval(timeout) {
            throw Failure(description: "chromium did not finish within \(Int(timeout)) s; its log:\n\(log)")
        }
        guard process.terminationStatus == 0 else {
            throw Failure(description: "chromium exited with status \(process.terminationStatus); its log:\n\(log)")
        }
        let console = log.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        return Page(dom: String(decoding: outData, as: UTF8.self), console: console, log: log)
    }
}
