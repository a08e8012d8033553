import Crypto
import Foundation

/// The credentials InfluxDB's subscriptions write to Tock with when `[http] auth-enabled` is on, as Kapacitor makes
/// them: the destination of an http(s) subscription is `http://~subscriber:<token>@host:port`, and the token lets
/// that subscription write to its own database and retention policy, nothing else.
///
/// Kapacitor's token is `base64url(<cluster>;<64 random bytes>)`, kept in its auth store. Tock's has the same shape,
/// with the random part an HMAC-SHA256 of the cluster, database and retention policy under a key kept in the data
/// directory (`subscription.key`): the daemon checks a token without storing one per subscription, and a token
/// keeps working across restarts, since InfluxDB keeps the subscriptions in place.
public struct SubscriptionTokens: Sendable {
    /// The user name of subscription writes (Kapacitor's `httpd.SubscriptionUser`).
    public static let user = "~subscriber"
    private let key: SymmetricKey

    init(key: SymmetricKey) { self.key = key }

    /// The key in `dataDirectory`, made (32 random bytes, readable by the owner only) on first use.
    public static func load(dataDirectory: String) throws -> SubscriptionTokens {
        let path = (dataDirectory as NSString).appendingPathComponent("subscription.key")
        if let text = try? String(contentsOfFile: path, encoding: .utf8), let bytes = hexBytes(text), bytes.count == 32 {
            return SubscriptionTokens(key: SymmetricKey(data: bytes))
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let key = SymmetricKey(size: .bits256)
        let hex = key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        // Written whole to a file of its own, then linked into place: when two parts of the daemon race to make the
        // key, the one that loses reads the winner's, never a half-written file.
        let temporary = path + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        defer { unlink(temporary) }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw SubscriptionTokenError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let line = Array((hex + "\n").utf8)
        let written = write(fd, line, line.count)
        fsync(fd)
        close(fd)
        guard written == line.count else { throw SubscriptionTokenError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        if link(temporary, path) != 0 {
            guard errno == EEXIST, let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let bytes = hexBytes(text), bytes.count == 32 else {
                throw SubscriptionTokenError("cannot create \(path): \(String(cString: strerror(errno)))")
            }
            return SubscriptionTokens(key: SymmetricKey(data: bytes))
        }
        return SubscriptionTokens(key: key)
    }

    /// The token of `cluster`'s subscription to `database`.`retentionPolicy`.
    public func token(cluster: String, database: String, retentionPolicy: String) -> String {
        Self.base64URL(Array(cluster.utf8) + [UInt8(ascii: ";")] + mac(cluster: cluster, database: database, retentionPolicy: retentionPolicy))
    }

    /// Whether `token` lets a subscription write to `database`.`retentionPolicy`.
    public func permits(_ token: String, database: String, retentionPolicy: String) -> Bool {
        guard let raw = Self.base64URLDecoded(token), let semicolon = raw.firstIndex(of: UInt8(ascii: ";")),
              let cluster = String(bytes: raw[..<semicolon], encoding: .utf8) else { return false }
        let given = Array(raw[(semicolon + 1)...])
        let expected = mac(cluster: cluster, database: database, retentionPolicy: retentionPolicy)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private func mac(cluster: String, database: String, retentionPolicy: String) -> [UInt8] {
        let message = Array(cluster.utf8) + [0] + Array(database.utf8) + [0] + Array(retentionPolicy.utf8)
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func base64URLDecoded(_ text: String) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        let hex = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard hex.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(hex.count / 2)
        var i = 0
        while i < hex.count {
            guard let byte = UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
            i += 2
        }
        return out
    }
}

struct SubscriptionTokenError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
