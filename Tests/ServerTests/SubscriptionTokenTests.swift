import Foundation
import Testing
@testable import Server

@Suite("Subscription tokens (Kapacitor's ~subscriber credentials)")
struct SubscriptionTokenTests {
    func directory() throws -> String {
        let dir = NSTemporaryDirectory() + "tock-subtokens-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("a token lets its own cluster's subscription write to its database and retention policy, and no other")
    func tokensPermitTheirOwnKeyOnly() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tokens = try SubscriptionTokens.load(dataDirectory: dir)
        // Enough databases that some MACs hold the byte of the separator (';'), which must not cut the token.
        let databases = (0..<300).map { "db\($0)" }
        for db in databases {
            let token = tokens.token(cluster: "local", database: db, retentionPolicy: "autogen")
            #expect(tokens.permits(token, database: db, retentionPolicy: "autogen"), "\(db)")
            #expect(!tokens.permits(token, database: db, retentionPolicy: "other"))
            #expect(!tokens.permits(token, database: db + "x", retentionPolicy: "autogen"))
        }
        let token = tokens.token(cluster: "local", database: "printer", retentionPolicy: "autogen")
        #expect(String(decoding: SubscriptionTokens.base64URLDecoded(token)!.prefix(6), as: UTF8.self) == "local;",
                "Kapacitor's shape: base64url(<cluster>;<secret>)")
        #expect(!tokens.permits("bG9jYWw7AAAA", database: "printer", retentionPolicy: "autogen"))
        #expect(!tokens.permits("not base64!", database: "printer", retentionPolicy: "autogen"))
    }

    @Test("the key is kept in the data directory, readable by its owner only: the same tokens after a restart")
    func keyPersists() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try SubscriptionTokens.load(dataDirectory: dir).token(cluster: "c", database: "d", retentionPolicy: "r")
        let again = try SubscriptionTokens.load(dataDirectory: dir).token(cluster: "c", database: "d", retentionPolicy: "r")
        #expect(first == again)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/subscription.key")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let other = try directory()
        defer { try? FileManager.default.removeItem(atPath: other) }
        #expect(try SubscriptionTokens.load(dataDirectory: other).token(cluster: "c", database: "d", retentionPolicy: "r") != first)
    }
}
