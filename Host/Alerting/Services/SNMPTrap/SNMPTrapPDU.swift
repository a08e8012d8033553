/// SNMPv2c trap messages BER-encoded by hand (no Swift SNMP package is on the machine), as Kapacitor's snmpgo
/// client sends them: `{version 1, community, SNMPv2-Trap-PDU {request-id, 0, 0, varbinds}}` with `sysUpTime.0 =
/// TimeTicks 1000` and `snmpTrapOID.0 = <trap oid>` first.
enum SNMPTrapPDU {
    /// A varbind value.
    enum Value: Sendable, Hashable {
        case integer(Int32)
        case octets([UInt8])
        case null
        case oid([UInt32])
        case ipAddress([UInt8])
        case counter32(UInt32)
        case gauge32(UInt32)
        case timeTicks(UInt32)
        case counter64(UInt64)
    }

    static let sysUpTime: [UInt32] = [1, 3, 6, 1, 2, 1, 1, 3, 0]
    static let snmpTrapOID: [UInt32] = [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0]

    static func message(community: String, requestID: Int32, trapOID: [UInt32], varbinds: [([UInt32], Value)]) -> [UInt8] {
        let all = [(sysUpTime, Value.timeTicks(1000)), (snmpTrapOID, Value.oid(trapOID))] + varbinds
        let list = tlv(0x30, all.flatMap { tlv(0x30, encode(.oid($0.0)) + encode($0.1)) })
        let pdu = tlv(0xA7, encode(.integer(requestID)) + encode(.integer(0)) + encode(.integer(0)) + list)
        return tlv(0x30, encode(.integer(1)) + encode(.octets(Array(community.utf8))) + pdu)
    }

    static func encode(_ value: Value) -> [UInt8] {
        switch value {
        case .integer(let i): tlv(0x02, signed(Int64(i)))
        case .octets(let b): tlv(0x04, b)
        case .null: [0x05, 0x00]
        case .oid(let arcs): tlv(0x06, oidBody(arcs))
        case .ipAddress(let b): tlv(0x40, b)
        case .counter32(let u): tlv(0x41, unsigned(UInt64(u)))
        case .gauge32(let u): tlv(0x42, unsigned(UInt64(u)))
        case .timeTicks(let u): tlv(0x43, unsigned(UInt64(u)))
        case .counter64(let u): tlv(0x46, unsigned(u))
        }
    }

    static func tlv(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] {
        [tag] + length(body.count) + body
    }

    static func length(_ n: Int) -> [UInt8] {
        if n < 128 { return [UInt8(n)] }
        var bytes: [UInt8] = []
        var x = n
        while x > 0 {
            bytes.insert(UInt8(x & 0xFF), at: 0)
            x >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    static func signed(_ v: Int64) -> [UInt8] {
        var bytes = withUnsafeBytes(of: v.bigEndian, Array.init)
        while bytes.count > 1 && ((bytes[0] == 0 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xFF && bytes[1] & 0x80 != 0)) {
            bytes.removeFirst()
        }
        return bytes
    }

    static func unsigned(_ v: UInt64) -> [UInt8] {
        var bytes = withUnsafeBytes(of: v.bigEndian, Array.init)
        while bytes.count > 1 && bytes[0] == 0 { bytes.removeFirst() }
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return bytes
    }

    static func oidBody(_ arcs: [UInt32]) -> [UInt8] {
        guard arcs.count >= 2 else { return arcs.isEmpty ? [] : base128(arcs[0] * 40) }
        return base128(arcs[0] * 40 + arcs[1]) + arcs.dropFirst(2).flatMap(base128)
    }

    static func base128(_ v: UInt32) -> [UInt8] {
        var out: [UInt8] = [UInt8(v & 0x7F)]
        var x = v >> 7
        while x > 0 {
            out.insert(UInt8(x & 0x7F) | 0x80, at: 0)
            x >>= 7
        }
        return out
    }

    /// `1.3.6.1…` (a leading dot allowed), as snmpgo's `NewOid` reads it; nil when it is not an OID.
    static func parseOID(_ text: String) -> [UInt32]? {
        var t = Substring(text)
        if t.hasPrefix(".") { t = t.dropFirst() }
        let arcs = t.split(separator: ".", omittingEmptySubsequences: false).map { UInt32($0) }
        guard arcs.count >= 2, arcs.allSatisfy({ $0 != nil }) else { return nil }
        let values = arcs.map { $0! }
        guard values[0] <= 2, values[0] == 2 || values[1] < 40 else { return nil }
        return values
    }
}
