import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Server
import Storage

/// A daemon on a temporary data directory, tested through its router (or live on 127.0.0.1).
struct Fixture {
    let directory: String
    var configuration = ServerConfiguration()

    init(maxBodySize: Int = 25_000_000) {
        directory = NSTemporaryDirectory() + "tock-server-\(UUID().uuidString)"
        configuration.dataDirectory = directory
        configuration.maxBodySize = maxBodySize
    }

    /// A fresh daemon over the fixture's data directory (a second call simulates a restart).
    func master() throws -> TaskMaster {
        let log = try LogSink(destination: directory + "/tock.log", level: "DEBUG")
        let master = TaskMaster(store: try Store(path: configuration.resolvedStoragePath), log: log)
        try master.startEnabledTasks()
        return master
    }

    func application(_ master: TaskMaster) -> some ApplicationProtocol {
        Daemon.application(api: TockAPI(master: master, configuration: configuration), host: "127.0.0.1", port: 0)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: JSON { (try? JSON.parse(Array(body.readableBytesView))) ?? .null }
}

func jsonBody(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

let cpuScript = "stream\n    |from()\n        .measurement('cpu')\n    |httpOut('out')\n"
