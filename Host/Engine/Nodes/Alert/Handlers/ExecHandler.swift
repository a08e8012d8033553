import Foundation

/// `.exec(prog, args...)`: runs the program for every event with the JSON line on its stdin.
/// Its output is kept only to explain a failure.
struct ExecHandler: AlertHandler {
    let program: String
    let arguments: [String]

    var name: String { "exec \(([program] + arguments).joined(separator: " "))" }

    /// How long a program may run before it is killed.
    static let timeoutSeconds: Double = 60

    func deliver(_ body: [UInt8]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.resolve(program))
        process.arguments = arguments
        // The child's stdin is a socket pair rather than a pipe so that writing to a child that exits
        // without reading is an error (send with MSG_NOSIGNAL), not a SIGPIPE for the whole process.
        var pair: [Int32] = [-1, -1]
        #if canImport(Glibc)
        let streamType = Int32(SOCK_STREAM.rawValue)
        #else
        let streamType = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, streamType, 0, &pair) == 0 else {
            throw AlertHandlerError("cannot create the stdin of \(program): \(String(cString: strerror(errno)))")
        }
        let childInput = FileHandle(fileDescriptor: pair[0], closeOnDealloc: true)
        defer { close(pair[1]) }
        let output = Pipe()
        process.standardInput = childInput
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            try? childInput.close()
            throw AlertHandlerError("failed to run \(program): \(error)")
        }
        try? childInput.close()
        // Kapacitor waits forever; Tock kills a program that hangs, so one stuck handler cannot hold
        // every later event (and the task's stop) hostage.
        let pid = process.processIdentifier
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.timeoutSeconds, execute: killer)
        try? writeAll(pair[1], body, what: program, socket: true)
        shutdown(pair[1], Int32(SHUT_WR))
        let captured = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        if process.terminationReason != .exit || process.terminationStatus != 0 {
            let text = String(decoding: captured, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let how = process.terminationReason == .exit ? "exit status \(process.terminationStatus)" : "signal \(process.terminationStatus)"
            throw AlertHandlerError("\(program) failed: \(how)\(text.isEmpty ? "" : ", output: \(text)")")
        }
    }

    /// `program` itself when it holds a slash, else the first match on `PATH` (as Go's exec.LookPath).
    static func resolve(_ program: String) throws -> String {
        if program.contains("/") { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = dir + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw AlertHandlerError("executable \(program) not found in PATH")
    }
}
