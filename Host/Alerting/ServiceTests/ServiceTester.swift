import Engine
import Foundation
import TockModel

/// Options of a service test that cannot be used: names the option and what is wrong (a 400 answer).
public struct ServiceTestOptionError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The answer of one service test: Kapacitor's `{"success": …, "message": …}`.
public struct ServiceTestResult: Sendable, Hashable {
    public var success: Bool
    /// Empty on success; else why the service could not deliver (the receiver's answer, a refused option).
    public var message: String
}

extension ServiceTest {
    /// `options` laid over the defaults, in the defaults' order (options Kapacitor does not list for the service
    /// are ignored, as Go's JSON decoding into the test's struct ignores them). An option of another type than its
    /// default is refused.
    public func options(_ given: [String: HandlerOption], for service: any AlertServiceKind)
        throws(ServiceTestOptionError) -> [(String, HandlerOption)] {
        try defaults(service).map { (key, value) throws(ServiceTestOptionError) in
            guard let new = given[key] else { return (key, value) }
            guard Self.sameType(new, value) else {
                throw ServiceTestOptionError("option \(key) of the \(name) test must be \(Self.typeName(value))")
            }
            return (key, new)
        }
    }

    /// Sends one test event through `service` with `options` (see ``options(_:for:)``), giving the attempt `timeout`.
    public func run(_ service: any AlertServiceKind, options: [(String, HandlerOption)], timeout: Duration) async
        -> ServiceTestResult {
        let values = Dictionary(options, uniquingKeysWith: { a, _ in a })
        var handler: [String: HandlerOption] = [:]
        for (testKey, optionKey) in handlerOptions {
            guard let v = values[testKey], !Self.isEmpty(v) else { continue }
            handler[optionKey] = v
        }
        let sender: any AlertSender
        do { sender = try service.makeSender(options: handler) } catch {
            return ServiceTestResult(success: false, message: error.message)
        }
        let levelText = level.flatMap { values[$0]?.string } ?? "CRITICAL"
        let eventLevel = AlertLevel.allCases.first { $0.description == levelText.uppercased() } ?? .critical
        let now = Timestamp(Date().timeIntervalSince1970 * 1_000_000_000)
        let event = AlertEvent(id: id.flatMap { values[$0]?.string } ?? "\(name)-test",
                               message: message.flatMap { values[$0]?.string } ?? "test \(name) message",
                               details: details.flatMap { values[$0]?.string } ?? "",
                               time: now, duration: 0, level: eventLevel, previousLevel: .ok, recoverable: true,
                               data: .batch(Batch(name: "", tmax: now, points: [])), taskName: "service-test")
        if let failure = await DeliveryQueue.attempt(sender, event, timeout: timeout) {
            return ServiceTestResult(success: false, message: failure.reason)
        }
        return ServiceTestResult(success: true, message: "")
    }

    static func isEmpty(_ v: HandlerOption) -> Bool {
        switch v {
        case .string(let s): s.isEmpty
        case .list(let l): l.isEmpty
        case .object(let o): o.isEmpty
        case .int(let i): i == 0
        default: false
        }
    }

    static func sameType(_ a: HandlerOption, _ b: HandlerOption) -> Bool {
        switch (a, b) {
        case (.string, .string), (.bool, .bool), (.list, .list), (.object, .object): true
        case (.int, .int), (.int, .float), (.float, .int), (.float, .float), (.duration, .int), (.int, .duration): true
        default: false
        }
    }

    static func typeName(_ v: HandlerOption) -> String {
        switch v {
        case .string: "a string"
        case .bool: "true or false"
        case .int, .float, .duration: "a number"
        case .list: "a list"
        case .object: "an object"
        }
    }
}
