import Crypto
import Foundation
import GRDB
import _CryptoExtras

/// A user of the daemon's API, as stored: the password only as a salted PBKDF2 hash.
public struct StoredUser: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "user"

    public var name: String
    /// `normal` or `admin` (an admin has every permission).
    public var type: String
    /// Comma-separated permission names (`read,write`).
    public var permissions: String
    /// ``PasswordHash`` text: `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>` (the rounds are recorded with
    /// each hash, so hashes made with an older default keep verifying).
    public var passwordHash: String
    public var created: Int64
    public var modified: Int64

    public init(name: String, type: String, permissions: [String], passwordHash: String, created: Int64, modified: Int64) {
        self.name = name
        self.type = type
        self.permissions = permissions.joined(separator: ",")
        self.passwordHash = passwordHash
        self.created = created
        self.modified = modified
    }

    public var permissionList: [String] {
        get { permissions.split(separator: ",").map(String.init) }
        set { permissions = newValue.joined(separator: ",") }
    }
}

/// An API token: only the SHA-256 of its secret text is stored; the text is shown once, when minted.
public struct StoredToken: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "token"

    /// The token's public name (what `revoke` takes); also the token text's prefix.
    public var id: String
    public var user: String
    /// SHA-256 of the token text, hex.
    public var hash: String
    public var description: String
    public var created: Int64

    public init(id: String, user: String, hash: String, description: String, created: Int64) {
        self.id = id
        self.user = user
        self.hash = hash
        self.description = description
        self.created = created
    }

    /// A new token for `user`: the record to store and the text to hand to the user (`tock_<id>_<secret>`).
    public static func mint(user: String, description: String, now: Int64) -> (token: StoredToken, text: String) {
        let id = randomHex(bytes: 6)
        let text = "tock_\(id)_\(randomHex(bytes: 24))"
        return (StoredToken(id: id, user: user, hash: digest(of: text), description: description, created: now), text)
    }

    /// What is stored of a token's text, and looked up by: the hex SHA-256 of its UTF-8.
    public static func digest(of text: String) -> String { hexString(Array(SHA256.hash(data: Array(text.utf8)))) }
}

/// Salted PBKDF2-HMAC-SHA256 password hashes, derived by swift-crypto (`_CryptoExtras`, BoringSSL underneath).
///
/// The text form is `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`: every hash names its own rounds, so
/// raising ``defaultIterations`` changes new hashes only, and hashes made before keep verifying.
public enum PasswordHash {
    /// Rounds for new hashes: OWASP's current advice for PBKDF2-HMAC-SHA256 (Password Storage Cheat Sheet,
    /// 600,000). Hashes made before Tock used swift-crypto have 100,000 and still verify.
    public static let defaultIterations = 600_000

    /// A new hash of `password` with a random 16-byte salt.
    public static func make(_ password: String, iterations: Int = defaultIterations) -> String {
        let salt = randomBytes(16)
        let derived = derive(password: Array(password.utf8), salt: salt, iterations: iterations)
        return "pbkdf2-sha256$\(iterations)$\(hexString(salt))$\(hexString(derived))"
    }

    /// Whether `password` matches `hash` (compared in constant time). A hash that is not in the text form
    /// above never matches.
    public static func verify(_ password: String, against hash: String) -> Bool {
        let parts = hash.split(separator: "$").map(String.init)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]), iterations > 0,
              let salt = bytes(hex: parts[2]), let expected = bytes(hex: parts[3]), !expected.isEmpty else { return false }
        let derived = derive(password: Array(password.utf8), salt: salt, iterations: iterations, length: expected.count)
        return constantTimeEqual(derived, expected)
    }

    /// PBKDF2-HMAC-SHA256 (RFC 8018): `length` bytes derived from `password` and `salt` in `iterations` rounds.
    ///
    /// Any positive number of rounds is taken (swift-crypto's checked entry point refuses fewer than 210,000,
    /// which would refuse the hashes stored before and the cheap ones tests make).
    public static func derive(password: [UInt8], salt: [UInt8], iterations: Int, length: Int = 32) -> [UInt8] {
        precondition(iterations > 0 && length > 0, "PBKDF2 needs at least one round and one byte")
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(from: password, salt: salt,
                                                        using: .sha256, outputByteCount: length,
                                                        unsafeUncheckedRounds: iterations)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            // BoringSSL fails here only when it cannot allocate.
            fatalError("PBKDF2-HMAC-SHA256 failed: \(error)")
        }
    }

    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}

/// Bytes from the system's cryptographically secure generator (`getrandom` on Linux).
public func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}

func randomHex(bytes count: Int) -> String { hexString(randomBytes(count)) }

/// `bytes` as lowercase hex digits, two a byte.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}

extension Store {
    // MARK: Users

    public func user(_ name: String) throws(StoreError) -> StoredUser? {
        try run("read user \(name)") { try pool.read { try StoredUser.fetchOne($0, key: name) } }
    }

    /// Every user, ordered by name.
    public func users() throws(StoreError) -> [StoredUser] {
        try run("list users") { try pool.read { try StoredUser.order(Column("name")).fetchAll($0) } }
    }

    /// Inserts or replaces the user.
    public func save(_ user: StoredUser) throws(StoreError) {
        try run("save user \(user.name)") { try pool.write { try user.save($0) } }
    }

    /// Deletes the user and their tokens; returns whether the user existed.
    @discardableResult
    public func deleteUser(_ name: String) throws(StoreError) -> Bool {
        try run("delete user \(name)") {
            try pool.write { db in
                try StoredToken.filter(Column("user") == name).deleteAll(db)
                return try StoredUser.deleteOne(db, key: name)
            }
        }
    }

    // MARK: Tokens

    public func save(_ token: StoredToken) throws(StoreError) {
        try run("save token \(token.id)") { try pool.write { try token.insert($0) } }
    }

    /// The token whose text hashes to `hash`, with its user.
    public func token(hash: String) throws(StoreError) -> (token: StoredToken, user: StoredUser)? {
        try run("look up a token") {
            try pool.read { db in
                guard let token = try StoredToken.filter(Column("hash") == hash).fetchOne(db),
                      let user = try StoredUser.fetchOne(db, key: token.user) else { return nil }
                return (token, user)
            }
        }
    }

    /// The tokens of `user`, oldest first.
    public func tokens(user: String) throws(StoreError) -> [StoredToken] {
        try run("list tokens of \(user)") {
            try pool.read { try StoredToken.filter(Column("user") == user).order(Column("created"), Column("id")).fetchAll($0) }
        }
    }

    /// Deletes the token `id` of `user`; returns whether it existed.
    @discardableResult
    public func deleteToken(_ id: String, user: String) throws(StoreError) -> Bool {
        try run("revoke token \(id)") {
            try pool.write { try StoredToken.filter(Column("id") == id && Column("user") == user).deleteAll($0) > 0 }
        }
    }
}
