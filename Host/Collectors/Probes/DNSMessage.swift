#if canImport(Glibc)
import Glibc
#endif

/// The few parts of the DNS wire format (RFC 1035) that `dns_query` needs: a query with one question, and the
/// header, questions and answer records of a response. Written by hand because it is small — a 12-byte header,
/// length-prefixed labels and compression pointers — and a resolver library would bring far more than a probe uses.
struct DNSMessage: Sendable, Hashable {
    /// The record types `dns_query` can ask for, with their numbers.
    enum RecordType: String, Sendable, CaseIterable {
        case A, AAAA, ANY, CNAME, MX, NS, PTR, SOA, SPF, SRV, TXT

        var code: UInt16 {
            switch self {
            case .A: 1
            case .NS: 2
            case .CNAME: 5
            case .SOA: 6
            case .PTR: 12
            case .MX: 15
            case .TXT: 16
            case .AAAA: 28
            case .SRV: 33
            case .SPF: 99
            case .ANY: 255
            }
        }
    }

    /// One resource record of the answer section.
    struct Record: Sendable, Hashable {
        var name: String
        var type: UInt16
        var ttl: UInt32
        var data: [UInt8]

        /// The address of an A or AAAA record, as Go's `net.IP.String()` prints it (an IPv4-mapped IPv6 address in
        /// dotted form); `nil` for other records.
        var address: String? {
            if type == 1 && data.count == 4 { return data.map(String.init).joined(separator: ".") }
            guard type == 28 && data.count == 16 else { return nil }
            if data[0..<10].allSatisfy({ $0 == 0 }) && data[10] == 0xff && data[11] == 0xff {
                return data[12...].map(String.init).joined(separator: ".")
            }
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: data) }
            var buffer = [CChar](repeating: 0, count: 64)
            guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    var id: UInt16
    var isResponse: Bool
    var rcode: Int
    var questionNames: [String] = []
    var questionTypes: [UInt16] = []
    var answers: [Record] = []

    /// miekg/dns' `RcodeToString`, which Telegraf puts in the `rcode` tag.
    static func rcodeName(_ rcode: Int) -> String {
        switch rcode {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        case 6: "YXDOMAIN"
        case 7: "YXRRSET"
        case 8: "NXRRSET"
        case 9: "NOTAUTH"
        case 10: "NOTZONE"
        case 16: "BADSIG"
        case 17: "BADKEY"
        case 18: "BADTIME"
        case 19: "BADMODE"
        case 20: "BADNAME"
        case 21: "BADALG"
        case 22: "BADTRUNC"
        case 23: "BADCOOKIE"
        default: String(rcode)
        }
    }

    /// A standard query for `name` (made fully qualified) and `type`, with recursion desired, as miekg/dns'
    /// `SetQuestion` + `RecursionDesired` builds it. `nil` when a label is empty or longer than 63 bytes.
    static func query(id: UInt16, name: String, type: UInt16) -> [UInt8]? {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        guard let encoded = encode(name: name) else { return nil }
        bytes += encoded
        bytes += [UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        return bytes
    }

    /// `name` as length-prefixed labels ending in the root's empty label; `.` and `""` are the root.
    static func encode(name: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        if !trimmed.isEmpty {
            for label in trimmed.split(separator: ".", omittingEmptySubsequences: false) {
                let utf8 = Array(label.utf8)
                guard !utf8.isEmpty, utf8.count <= 63 else { return nil }
                bytes.append(UInt8(utf8.count))
                bytes += utf8
            }
        }
        bytes.append(0)
        return bytes.count <= 255 ? bytes : nil
    }

    /// Decodes a message; `nil` when it is truncated or malformed (a pointer loop, a label past the end).
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 12 else { return nil }
        id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        isResponse = bytes[2] & 0x80 != 0
        rcode = Int(bytes[3] & 0x0f)
        let qdcount = Int(bytes[4]) << 8 | Int(bytes[5])
        let ancount = Int(bytes[6]) << 8 | Int(bytes[7])
        var offset = 12
        for _ in 0..<qdcount {
            guard let name = Self.readName(bytes, &offset), offset + 4 <= bytes.count else { return nil }
            questionNames.append(name)
            questionTypes.append(UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]))
            offset += 4
        }
        for _ in 0..<ancount {
            guard let name = Self.readName(bytes, &offset), offset + 10 <= bytes.count else { return nil }
            let type = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let ttl = bytes[offset + 4..<offset + 8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let length = Int(bytes[offset + 8]) << 8 | Int(bytes[offset + 9])
            offset += 10
            guard offset + length <= bytes.count else { return nil }
            answers.append(Record(name: name, type: type, ttl: ttl, data: Array(bytes[offset..<offset + length])))
            offset += length
        }
    }

    /// Reads a possibly compressed name at `offset`, moving `offset` past it; the name is fully qualified (`a.b.`).
    static func readName(_ bytes: [UInt8], _ offset: inout Int) -> String? {
        var labels: [String] = []
        var position = offset
        var jumped = false
        var jumps = 0
        while true {
            guard position < bytes.count else { return nil }
            let length = Int(bytes[position])
            if length == 0 {
                position += 1
                break
            }
            if length & 0xc0 == 0xc0 {
                guard position + 1 < bytes.count, jumps < 64 else { return nil }
                let target = (length & 0x3f) << 8 | Int(bytes[position + 1])
                if !jumped { offset = position + 2 }
                jumped = true
                jumps += 1
                position = target
                continue
            }
            guard length <= 63, position + 1 + length <= bytes.count else { return nil }
            labels.append(String(decoding: bytes[position + 1..<position + 1 + length], as: UTF8.self))
            position += 1 + length
        }
        if !jumped { offset = position }
        return labels.isEmpty ? "." : labels.joined(separator: ".") + "."
    }
}
