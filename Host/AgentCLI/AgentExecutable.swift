#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension AgentCommand {
    /// The name of the small agent-only executable that `swift build` puts beside `tock`.
    public static let executableName = "tock-agent"

    /// `tock-agent` beside the running executable, when it is there and executable; nil otherwise, and when
    /// `TOCK_AGENT_IN_PROCESS` is set (to run `tock agent` inside `tock` itself).
    public static func agentExecutable() -> String? {
        if let value = getenv("TOCK_AGENT_IN_PROCESS"), value.pointee != 0 { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let executable: String
        if count > 0 {
            executable = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        } else if let first = CommandLine.arguments.first, first.contains("/") {
            executable = first
        } else {
            return nil
        }
        guard let slash = executable.lastIndex(of: "/") else { return nil }
        let candidate = String(executable[...slash]) + executableName
        return access(candidate, X_OK) == 0 ? candidate : nil
    }

    /// Replaces this process with `tock-agent arguments…` (the process keeps its id, so signals sent to `tock agent`
    /// reach the agent); returns only when there is no `tock-agent` to run or `execv` fails, and the caller then runs
    /// the agent in-process.
    /// - Parameter arguments: what followed `agent` on the command line.
    public static func execAgentExecutable(_ arguments: [String]) {
        guard let program = agentExecutable() else { return }
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        execv(program, argv)
        for pointer in argv { free(pointer) }
    }
}
