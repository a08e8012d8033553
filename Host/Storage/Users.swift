import Foundation
import GRDB

/// A user of the daemon's API, as stored: the password only as a salted PBKDF2 hash.
public struct StoredUser: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "user"

    public var name: String
    /// `normal` or `admin` (an admin has every permission).
    public var type: String
    /// Comma-separated permission names (`read,write`).
    public var permissions: String
    /// ``PasswordHash`` text: `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`.
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
        return (StoredToken(id: id, user: user, hash: SHA256.hex(text), description: description, created: now), text)
    }
}

/// Salted PBKDF2-HMAC-SHA256 password hashes.
public enum PasswordHash {
    /// Rounds for new hashes (OWASP's 2023 advice is 600,000 for PBKDF2-SHA256; this is weighed against a
    /// self-contained implementation's speed, and stored with each hash, so it can be raised later).
    public static let defaultIterations = 100_000

    /// A new hash of `password` with a random 16-byte salt.
    public static func make(_ password: String, iterations: Int = defaultIterations) -> String {
        let salt = randomBytes(16)
        let derived = SHA256.pbkdf2(password: Array(password.utf8), salt: salt, iterations: iterations)
        return "pbkdf2-sha256$\(iterations)$\(SHA256.hexString(salt))$\(SHA256.hexString(derived))"
    }

    /// Whether `password` matches `hash` (compared in constant time).
    public static func verify(_ password: String, against hash: String) -> Bool {
        let parts = hash.split(separator: "$").map(String.init)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]), iterations > 0,
              let salt = bytes(hex: parts[2]), let expected = bytes(hex: parts[3]) else { return false }
        let derived = SHA256.pbkdf2(password: Array(password.utf8), salt: salt, iterations: iterations,
                                    length: expected.count)
        return constantTimeEqual(derived, expected)
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

func randomHex(bytes count: Int) -> String { SHA256.hexString(randomBytes(count)) }

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
