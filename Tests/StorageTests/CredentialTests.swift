import Foundation
import Storage
import Testing

@Suite("Credentials: SHA-256, HMAC, PBKDF2 against published vectors; users and tokens in the store")
struct CredentialTests {
    func hex(_ text: String) -> String { SHA256.hexString(SHA256.hash(Array(text.utf8))) }

    @Test("SHA-256 of FIPS 180-2's examples and of the empty string")
    func sha256() {
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("HMAC-SHA256: RFC 4231 test case 2")
    func hmac() {
        let mac = SHA256.hmac(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
        #expect(SHA256.hexString(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("PBKDF2-HMAC-SHA256: RFC 7914 section 11 (1 round, 64 bytes) and the 4096-round vector")
    func pbkdf2() {
        let one = SHA256.pbkdf2(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64)
        #expect(SHA256.hexString(one) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                + "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
        let many = SHA256.pbkdf2(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096)
        #expect(SHA256.hexString(many) == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
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
        #expect(minted.token.hash == SHA256.hex(minted.text))
        #expect(try store.token(hash: SHA256.hex(minted.text))?.user.name == "bob")
        #expect(try store.token(hash: minted.text) == nil, "the token text itself is not what is stored")

        #expect(try store.deleteToken(minted.token.id, user: "alice") == false)
        #expect(try store.deleteToken(minted.token.id, user: "bob") == true)
        #expect(try store.token(hash: SHA256.hex(minted.text)) == nil)

        let second = StoredToken.mint(user: "bob", description: "", now: 6)
        try store.save(second.token)
        #expect(try store.deleteUser("bob"))
        #expect(try store.tokens(user: "bob").isEmpty)
        #expect(try store.user("bob") == nil)
    }
}
