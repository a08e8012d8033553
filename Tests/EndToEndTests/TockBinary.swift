import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the `tock` executable that `swift build` put next to the test bundle.
enum TockBinary {
    /// The repository root (where Package.swift is).
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var path: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("tock").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `tock args…` in the repository root, feeding `input` on stdin.
    static func run(_ args: [String], input: Data? = nil) throws -> Result {
        try runProgram(path, args, input: input)
    }

    /// - Parameters:
    ///   - environment: variables added to (or, with an empty value, removed from) this process's.
    ///   - timeout: seconds after which the program is killed and the call throws, so a hung program
    ///     fails its test instead of hanging the suite.
    ///   - directory: the working directory (default: the repository root).
    static func runProgram(_ program: String, _ args: [String], input: Data? = nil,
                           environment: [String: String] = [:], timeout: Double = 180,
                           directory: String = root) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: program) else {
            throw HarnessError("\(program) is not an executable file: build it first (swift build --build-tests)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = args
        if !environment.isEmpty {
            var merged = ProcessInfo.processInfo.environment
            for (key, value) in environment { merged[key] = value.isEmpty ? nil : value }
            process.environment = merged
        }
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inp
        let started = Date()
        try process.run()
        let killer = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        defer { killer.cancel() }
        if let input { inp.fileHandleForWriting.write(input) }
        try inp.fileHandleForWriting.close()
        // Drain both pipes concurrently so neither fills up.
        nonisolated(unsafe) var errData = Data()
        let errThread = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        errThread.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errThread.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        if process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL && killer.isCancelled == false
            && Date() >= started.addingTimeInterval(timeout) {
            throw HarnessError("\((program as NSString).lastPathComponent) \(args.joined(separator: " ")) did not finish within \(Int(timeout)) s and was killed; stderr:\n\(String(decoding: errData, as: UTF8.self))")
        }
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
