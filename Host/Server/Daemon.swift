import Engine
import Foundation
import Hummingbird
import Logging
import NIOCore
import Storage

/// `tock serve`: the HTTP daemon, from start to graceful shutdown.
public enum Daemon {
    /// Opens the store, starts the enabled tasks and serves until SIGTERM or SIGINT; then stops accepting
    /// connections, drains every task (UDF children included) and returns.
    /// - Parameters:
    ///   - udfProvider: the UDFs of the `[udf]` section, for tasks that call them.
    ///   - onListening: called with the bound port once the server accepts connections.
    public static func run(configuration: ServerConfiguration, udfProvider: (any UDFProvider)? = nil,
                           onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let log = try LogSink(destination: configuration.logFile, level: configuration.logLevel)
        if configuration.authEnabled {
            throw ConfigurationError("[http] auth-enabled = true: authentication is not available in this build")
        }
        for section in configuration.unusedSections {
            log.log(.warn, "configuration section is not used by this build", ["section": section])
        }
        let bind = try configuration.bind
        let store = try Store(path: configuration.resolvedStoragePath)
        log.log(.info, "opened storage", ["path": store.path])
        let master = TaskMaster(store: store, udfProvider: udfProvider, log: log)
        try master.startEnabledTasks()
        let app = application(api: TockAPI(master: master, configuration: configuration), host: bind.host, port: bind.port,
                              onListening: { port in
                                  log.log(.info, "listening", ["address": "\(bind.host):\(port)"])
                                  onListening(port)
                              })
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            master.stopAll()
            throw error
        }
        log.log(.info, "shutting down: draining tasks")
        master.stopAll()
        log.log(.info, "stopped")
    }

    /// The Hummingbird application serving `api`.
    public static func application(api: TockAPI, host: String, port: Int,
                                   onListening: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        var logger = Logger(label: "tock.http")
        logger.logLevel = .warning
        return Application(
            responder: api.responder(),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
