import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Entry points for a UDF executable's `main.swift`.
public enum UDFMain {
    /// Serves `handler` on standard input and output, then exits: status 0 at EOF, 1 after an error
    /// (which is also written to standard error; Kapacitor copies it to its log).
    public static func runStdio<Handler: UDFHandler>(_ handler: Handler) -> Never {
        var agent = Agent(handler: handler)
        do {
            try agent.run()
            exit(0)
        } catch {
            printError("\(error)")
            exit(1)
        }
    }

    /// Serves a Unix socket at `path`, one handler from `makeHandler` per connection, until SIGINT
    /// or SIGTERM, which remove the socket file; then exits.
    public static func serve<Handler: UDFHandler>(
        socket path: String, _ makeHandler: @escaping @Sendable () -> Handler
    ) -> Never {
        let server: Server<Handler>
        do {
            server = try Server(path: path, makeHandler: makeHandler)
        } catch {
            printError("\(error)")
            exit(1)
        }
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { server.stop() }
            source.resume()
            sources.append(source)
        }
        do {
            try server.serve()
        } catch {
            printError("\(error)")
            server.stop()
            exit(1)
        }
        withExtendedLifetime(sources) {}
        exit(0)
    }

    /// Writes a usage error to standard error and exits with status 2.
    public static func printUsage(_ message: String) -> Never {
        printError(message)
        exit(2)
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
