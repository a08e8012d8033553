import Foundation
import Glibc
import PluginProtocol

/// A collector plugin in Swift: declare its name, version, options and interval, implement ``gather(time:options:)``
/// and call ``run()`` from `main`. Tock starts it for a `[[collectors.NAME]]` section with `prog`, sends the
/// section's options in the handshake, and asks for a gather at each interval.
///
/// ```swift
/// struct Uptime: Collector {
///     let name = "uptime", version = "1.0"
///     func gather(time: Int64, options: [String: Tock_Plugin_OptionValue]) async throws -> [CollectedPoint] {
///         [CollectedPoint(name: "uptime", fields: ["seconds": .int(42)])]
///     }
/// }
/// try await Uptime().run()
/// ```
public protocol Collector: Sendable {
    var name: String { get }
    var version: String { get }
    var options: [NotifierOption] { get }
    /// The interval when the host's section sets none (`nil`: the host's default).
    var interval: Duration? { get }
    /// Gathers once; points without a time get `time`. A thrown error reports this gather failed, with its text.
    func gather(time: Int64, options: [String: Tock_Plugin_OptionValue]) async throws -> [CollectedPoint]
}

/// One point a collector reports.
public struct CollectedPoint: Sendable {
    public var name: String
    public var tags: [String: String]
    public var fields: [String: Tock_Plugin_FieldValue.OneOf_Value]
    /// Nanoseconds since the Unix epoch; 0: the gather's time.
    public var time: Int64

    public init(name: String, tags: [String: String] = [:], fields: [String: Tock_Plugin_FieldValue.OneOf_Value], time: Int64 = 0) {
        self.name = name
        self.tags = tags
        self.fields = fields
        self.time = time
    }
}

extension Collector {
    public var options: [NotifierOption] { [] }
    public var interval: Duration? { nil }

    /// Serves the host until stdin ends: gathers one at a time, in order.
    public func run(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) async throws {
        signal(SIGPIPE, SIG_IGN)
        let writer = FrameWriter(fd: output)
        var configured: [String: Tock_Plugin_OptionValue] = [:]
        for try await request in FrameReader.requests(fd: input) {
            switch request.message {
            case .handshake(let h):
                configured = h.options
                try writer.write(.with {
                    $0.handshake = .with {
                        $0.protocolVersion = PluginProtocolVersion.current
                        $0.name = name
                        $0.version = version
                        $0.kind = .collector
                        $0.mode = .polled
                        if let interval {
                            $0.defaultInterval = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
                        }
                        $0.options = options.map { o in
                            .with {
                                $0.name = o.name
                                $0.type = o.type
                                $0.required = o.required
                                $0.description_p = o.description
                            }
                        }
                    }
                })
            case .keepalive(let k):
                try writer.write(.with { $0.keepalive = .with { $0.time = k.time } })
            case .gather(let g):
                var answer = Tock_Plugin_PointsResponse()
                answer.gatherID = g.gatherID
                answer.done = true
                do {
                    answer.points = try await gather(time: g.time, options: configured).map { p in
                        .with {
                            $0.name = p.name
                            $0.tags = p.tags
                            $0.fields = p.fields.mapValues { v in .with { $0.value = v } }
                            $0.time = p.time
                        }
                    }
                } catch {
                    answer.error = "\(error)"
                }
                try writer.write(.with { $0.points = answer })
            case .notify, nil:
                break
            }
        }
    }
}
