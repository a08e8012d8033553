import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
@testable import Server
import Storage

/// A daemon on a temporary data directory, served live on 127.0.0.1 at a free port.
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
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let log = try LogOutput(destination: directory + "/tock.log", level: "DEBUG").logger()
        let master = TaskMaster(store: try Store(path: configuration.resolvedStoragePath), log: log,
                                execPolicy: configuration.execPolicy)
        try master.startEnabledTasks()
        return master
    }

    /// Serves `master` on 127.0.0.1 while `body` runs, then stops the server and every task.
    func serve(_ master: TaskMaster, _ body: @Sendable (Client) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try Daemon.application(api: TockAPI(master: master, configuration: configuration), host: "127.0.0.1",
                                     port: 0, onListening: { continuation.yield($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            try await body(Client(port: port))
            group.cancelAll()
        }
        master.stopAll()
    }

    /// Runs `body` against a fresh daemon, then removes the data directory.
    static func with(maxBodySize: Int = 25_000_000, _ body: @Sendable (Client) async throws -> Void) async throws {
        let f = Fixture(maxBodySize: maxBodySize)
        defer { f.remove() }
        try await f.serve(try f.master(), body)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// An HTTP answer as the tests read it.
struct Answer: Sendable {
    var status: HTTPResponse.Status
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSON { (try? JSON.parse(body)) ?? .null }
}

/// A minimal HTTP client for the daemon under test.
struct Client: Sendable {
    let port: Int

    func execute(uri: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil)
        async throws -> Answer {
        try await execute(uri: uri, method: method, headers: headers, bytes: body.map { Array($0.utf8) })
    }

    func execute(uri: String, method: String = "GET", headers: [String: String] = [:], bytes: [UInt8]?)
        async throws -> Answer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(uri)")!)
        request.httpMethod = method
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if let bytes { request.httpBody = Data(bytes) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields[String(describing: k).lowercased()] = String(describing: v) }
        return Answer(status: HTTPResponse.Status(code: http.statusCode), headers: fields, body: [UInt8](data))
    }
}

let cpuScript = "stream\n    |from()\n        .measurement('cpu')\n    |httpOut('out')\n"
