import Foundation
import Storage
import Testing

@Suite("Credentials: PBKDF2 and token digests (swift-crypto) against published vectors; users and tokens in the store")
struct CredentialTests {
    /// Made by Tock's hand-written PBKDF2 before it used swift-crypto (`PasswordHash.make` with its default of
    /// 100,000 rounds then), for the password "correct horse battery staple": stored hashes like it must keep
    /// verifying.
    static let storedBeforeSwiftCrypto =
        "pbkdf2-sha256$100000$362e48f0f899c7e388e69dba74a02e72$07d1ab330468102457c282acf645b2632c7e03c88330e47584643d93618abcf8"

    @Test("PBKDF2-HMAC-SHA256: RFC 7914 section 11 (1 round, 64 bytes) and the 4096-round vector")
    func pbkdf2() {
        let one = PasswordHash.derive(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64)
        #expect(hexString(one) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
        let many = PasswordHash.derive(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096)
        #expect(hexString(many) == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
    }

    @Test("a hash stored before the change to swift-crypto still verifies its password, and only it")
    func hashFromBeforeSwiftCrypto() {
        #expect(PasswordHash.verify("correct horse battery staple", against: Self.storedBeforeSwiftCrypto))
        #expect(!PasswordHash.verify("correct horse battery stapler", against: Self.storedBeforeSwiftCrypto))
        #expect(!PasswordHash.verify("", against: Self.storedBeforeSwiftCrypto))
    }

    @Test("new hashes use OWASP's 600,000 rounds and record them")
    func newHashesUseOWASPRounds() {
        #expect(PasswordHash.defaultIterations == 600_000)
        let hash = PasswordHash.make("s3cret")
        #expect(hash.hasPrefix("pbkdf2-sha256$600000$"))
        #expect(PasswordHash.verify("s3cret", against: hash))
    }

    @Test("an empty password hashes and verifies like any other")
    func emptyPassword() {
        let hash = PasswordHash.make("", iterations: 10)
        #expect(PasswordHash.verify("", against: hash))
        #expect(!PasswordHash.verify("x", against: hash))
    }

    @Test("a token is stored as the hex SHA-256 of its text (FIPS 180-2's \"abc\" example)")
    func tokenDigest() {
        #expect(StoredToken.digest(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(StoredToken.digest(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("a password hash is salted, names its rounds, and verifies only the right password")
    func passwordHash() {
        let a = PasswordHash.make("s3cret", iterations: 1000)
        let b = PasswordHash.make("s3cret", iterations: 1000)
        #expect(a != b, "two hashes of one password differ by their salt")
        #expect(a.hasPrefix("pbkdf2-sha256$1000$"))
        #expect(!a.contains("s3cret"))
        #expect(PasswordHash.verify("s3cret", against: a))
        #expect(!PasswordHash.verify("s3cret!", against: a))
        #expect(!PasswordHash.verify("s3cret", against: "plain:s3cret"))
        #expect(!PasswordHash.verify("s3cret", against: "pbkdf2-sha256$1000$00$"), "a hash with no digest matches nothing")
        #expect(!PasswordHash.verify("s3cret", against: "pbkdf2-sha256$0$00$00"), "nor one with no rounds")
    }

    @Test("users and their tokens: a token is found by its hash only, revoked by id, and goes with its user")
    func usersAndTokens() throws {
        let directory = NSTemporaryDirectory() + "tock-credentials-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(path: directory + "/tock.db")
        let user = StoredUser(name: "bob", type: "normal", permissions: ["read", "write"],
                              passwordHash: PasswordHash.make("pw", iterations: 10), created: 1, modified: 1)
        try store.save(user)
        #expect(try store.user("bob")?.permissionList == ["read", "write"])

        let minted = StoredToken.mint(user: "bob", description: "telegraf", now: 5)
        try store.save(minted.token)
        #expect(minted.text.hasPrefix("tock_\(minted.token.id)_"))
        #expect(minted.token.hash == StoredToken.digest(of: minted.text))
        #expect(try store.token(hash: StoredToken.digest(of: minted.text))?.user.name == "bob")
        #expect(try store.token(hash: minted.text) == nil, "the token text itself is not what is stored")

        #expect(try store.deleteToken(minted.token.id, user: "alice") == false)
        #expect(try store.deleteToken(minted.token.id, user: "bob") == true)
        #expect(try store.token(hash: StoredToken.digest(of: minted.text)) == nil)

        let second = StoredToken.mint(user: "bob", description: "", now: 6)
        try store.save(second.token)
        #expect(try store.deleteUser("bob"))
        #expect(try store.tokens(user: "bob").isEmpty)
        #expect(try store.user("bob") == nil)
    }
}
