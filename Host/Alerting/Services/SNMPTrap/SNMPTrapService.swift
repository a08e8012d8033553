import Engine
import NIOCore
import NIOPosix
import TockModel

/// Kapacitor's `[snmptrap]` section and the `snmptrap` handler (`.snmpTrap('oid').data(oid, type, value)`): one
/// SNMPv2c trap per alert, each data value a template rendered with the event (`services/snmptrap/service.go`).
public struct SNMPTrapService: AlertServiceKind {
    public static let kind = "snmptrap"
    public static let section = ConfigSectionSpec("snmptrap", redacted: ["community"])

    public var enabled = false
    /// `host:port` of the trap receiver.
    public var addr = "localhost:162"
    public var community = "kapacitor"
    /// Kept for the config API; a v2c trap is unconfirmed, so nothing is retried (as with snmpgo's `V2Trap`).
    public var retries: Int64 = 1

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard elements.count <= 1 else { throw ConfigError("[snmptrap] is a single section, not an array of tables") }
        var r = ConfigReader(elements.first ?? [:], section: "snmptrap")
        enabled = try r.bool("enabled")
        addr = try r.string("addr", default: addr)
        community = try r.string("community", default: community)
        retries = try r.int("retries", default: retries)
        try r.finish()
        if enabled && addr.isEmpty { throw ConfigError("[snmptrap] must specify addr") }
        if enabled && Self.split(addr) == nil { throw ConfigError("[snmptrap] addr \"\(addr)\" is not host:port") }
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "addr": .string(addr), "community": .bool(!community.isEmpty), "retries": .int(retries)]]
    }

    /// One `data` entry: the varbind's OID, its net-snmp type letter and its value template.
    struct DataItem: Sendable {
        var oid: [UInt32]
        var type: String
        var template: EventTemplate
    }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let trapOID = try r.string("trap-oid") ?? ""
        let list = r.value("data-list")
        try r.finish()
        guard let oid = SNMPTrapPDU.parseOID(trapOID) else {
            throw HandlerOptionError("snmptrap: invalid trap Oid \"\(trapOID)\"", option: "trap-oid")
        }
        var items: [DataItem] = []
        if let list {
            guard case .list(let entries) = list else {
                throw HandlerOptionError("snmptrap option data-list must be a list of {oid, type, value}", option: "data-list")
            }
            for entry in entries {
                guard let m = entry.stringMap, let o = m["oid"], let type = m["type"] else {
                    throw HandlerOptionError("snmptrap option data-list must be a list of {oid, type, value}", option: "data-list")
                }
                guard let dataOID = SNMPTrapPDU.parseOID(o) else {
                    throw HandlerOptionError("snmptrap: invalid data Oid \"\(o)\"", option: "data-list")
                }
                guard Self.types.contains(type) else {
                    throw HandlerOptionError("snmptrap: Snmptrap Datatype not known: \(type) (types: c i u t a o s x d n)", option: "data-list")
                }
                do {
                    items.append(DataItem(oid: dataOID, type: type, template: try EventTemplate(name: "data", source: m["value"] ?? "", data: .templateData)))
                } catch {
                    throw HandlerOptionError("snmptrap: data \(o): \(error)", option: "data-list")
                }
            }
        }
        guard enabled else {
            throw HandlerOptionError("snmptrap is not enabled: set enabled = true in the [snmptrap] section of kapacitor.conf")
        }
        guard let (host, port) = Self.split(addr) else {
            throw HandlerOptionError("snmptrap: [snmptrap] addr \"\(addr)\" is not host:port")
        }
        return SNMPTrapSender(host: host, port: port, community: community, trapOID: oid, data: items)
    }

    static let types: Set<String> = ["c", "i", "u", "t", "a", "o", "s", "x", "d", "n"]

    static func split(_ addr: String) -> (String, Int)? {
        guard let colon = addr.lastIndex(of: ":"), let port = Int(addr[addr.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(addr[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}

/// Sends one trap per event over UDP.
struct SNMPTrapSender: AlertSender {
    let host: String
    let port: Int
    let community: String
    let trapOID: [UInt32]
    let data: [SNMPTrapService.DataItem]

    var description: String { "snmptrap \(trapOID.map(String.init).joined(separator: ".")) to \(host):\(port)" }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        var varbinds: [([UInt32], SNMPTrapPDU.Value)] = []
        for item in data {
            let text: String
            do { text = try item.template.render(event) } catch { throw .permanent("snmptrap: \(error)") }
            guard let value = Self.value(item.type, text) else {
                throw .permanent("snmptrap: data \(item.oid.map(String.init).joined(separator: ".")): \"\(text)\" is not a value of type \(item.type)")
            }
            varbinds.append((item.oid, value))
        }
        let message = SNMPTrapPDU.message(community: community, requestID: Int32.random(in: 1...Int32.max), trapOID: trapOID, varbinds: varbinds)
        do {
            let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
            let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: address.protocol == .inet6 ? "::" : "0.0.0.0", port: 0).get()
            defer { channel.close(promise: nil) }
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: message))).get()
        } catch {
            throw .retryable("snmptrap: sending to \(host):\(port) failed: \(error)")
        }
    }

    /// The varbind value for net-snmp's type letters: Kapacitor's c (Counter64), i (Integer32), n (Null),
    /// s (OctetString), t (TimeTicks); and u (Unsigned32), a (IpAddress), o (OID), x (hex), d (decimal bytes), which
    /// Kapacitor refuses.
    static func value(_ type: String, _ text: String) -> SNMPTrapPDU.Value? {
        switch type {
        case "c": Int64(text).map { .counter64(UInt64(bitPattern: $0)) }
        case "i": Int64(text).map { .integer(Int32(truncatingIfNeeded: $0)) }
        case "t": Int64(text).map { .timeTicks(UInt32(truncatingIfNeeded: $0)) }
        case "u": UInt32(text).map { .gauge32($0) }
        case "n": .null
        case "s": .octets(Array(text.utf8))
        case "o": SNMPTrapPDU.parseOID(text).map { .oid($0) }
        case "a":
            { () -> SNMPTrapPDU.Value? in
                let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { UInt8($0) }
                return parts.count == 4 && parts.allSatisfy { $0 != nil } ? .ipAddress(parts.map { $0! }) : nil
            }()
        case "x":
            { () -> SNMPTrapPDU.Value? in
                let hex = Array(text.filter { !$0.isWhitespace })
                guard hex.count % 2 == 0 else { return nil }
                var bytes: [UInt8] = []
                for i in stride(from: 0, to: hex.count, by: 2) {
                    guard let b = UInt8(String(hex[i...i + 1]), radix: 16) else { return nil }
                    bytes.append(b)
                }
                return .octets(bytes)
            }()
        case "d":
            { () -> SNMPTrapPDU.Value? in
                let parts = text.split(whereSeparator: { $0 == "." || $0 == " " }).map { UInt8($0) }
                return parts.allSatisfy { $0 != nil } ? .octets(parts.map { $0! }) : nil
            }()
        default: nil
        }
    }
}
