import Foundation
import Synchronization
@testable import Alerting

/// The broker side of SASL for ``KafkaTestBroker``: SaslHandshake (v0 and v1), SaslAuthenticate v0, and the raw
/// size-prefixed tokens that follow a v0 handshake. PLAIN checks the name and password; SCRAM runs the server half
/// of RFC 5802 with the account's password, verifying the client's proof by recovering ClientKey from it
/// (`ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage)`, then `H(ClientKey) == StoredKey`). The HMAC, hash
/// and PBKDF2 primitives are the ones the RFC 7677 and RFC 7914 vectors check in ``KafkaSASLTests``.
extension KafkaTestBroker {
    struct SASLAccount: Sendable {
        var mechanisms: [String]
        var username: String
        var password: String
        /// Sends a server signature computed from another password, as an impostor that accepted any proof would.
        var forgeServerSignature = false
    }

    /// Per-connection SASL state.
    final class SASLSession: @unchecked Sendable {
        var mechanism = ""
        var rawTokens = false
        var authenticated = false
        var step = 0
        var clientFirstBare = ""
        var serverFirst = ""
    }

    static let salt: [UInt8] = Array("tock-kafka-salt!".utf8)
    static let iterations = 4096
    static let refusal = "Authentication failed during authentication due to invalid credentials with SASL mechanism"

    /// SaslHandshake and SaslAuthenticate; writes the answer after the correlation id into `w`.
    func saslRequest(apiKey: Int16, version: Int16, _ r: inout Reader, _ w: inout Writer, session: SASLSession) throws {
        guard let account else { throw Bad("SASL request to a broker without SASL") }
        if apiKey == 17 {
            let mechanism = try r.string() ?? ""
            saslLog.withLock { $0.append("handshake v\(version) \(mechanism)") }
            let enabled = account.mechanisms.contains(mechanism)
            w.int16(enabled ? 0 : 33)
            w.int32(Int32(account.mechanisms.count))
            for m in account.mechanisms { w.string(m) }
            if enabled {
                session.mechanism = mechanism
                session.rawTokens = version == 0
            }
            return
        }
        guard !session.mechanism.isEmpty else { throw Bad("SaslAuthenticate before SaslHandshake") }
        let token = try r.raw(Int(try r.int32()))
        switch try respond(token, session: session, account: account) {
        case .success(let reply):
            w.int16(0); w.int16(-1)
            w.int32(Int32(reply.count)); w.bytes += reply
        case .failure(let message):
            w.int16(58); w.string(message.description)
            w.int32(0)
        }
    }

    /// A raw token after a v0 handshake, answered with a size-prefixed token; a refusal closes the connection.
    func rawSASL(_ token: [UInt8], session: SASLSession) throws -> [UInt8] {
        guard let account else { throw Bad("SASL token to a broker without SASL") }
        guard case .success(let reply) = try respond(token, session: session, account: account) else { throw Bad("refused") }
        if session.authenticated { session.rawTokens = false }
        var w = Writer()
        w.int32(Int32(reply.count))
        w.bytes += reply
        return w.bytes
    }

    private func respond(_ token: [UInt8], session: SASLSession, account: SASLAccount) throws -> Result<[UInt8], Bad> {
        let text = String(decoding: token, as: UTF8.self)
        saslLog.withLock { $0.append(text) }
        let refused = Result<[UInt8], Bad>.failure(Bad("\(Self.refusal) \(session.mechanism)"))
        if session.mechanism == "PLAIN" {
            let parts = token.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard parts == ["", account.username, account.password] else { return refused }
            session.authenticated = true
            return .success([])
        }
        let hash: ScramClient.Hash = session.mechanism == "SCRAM-SHA-512" ? .sha512 : .sha256
        defer { session.step += 1 }
        if session.step == 0 {
            guard text.hasPrefix("n,,") else { throw Bad("client-first without the n,, header: \(text)") }
            session.clientFirstBare = String(text.dropFirst(3))
            let attributes = ScramClient.attributes(session.clientFirstBare)
            guard attributes["n"] == account.username, let nonce = attributes["r"] else { return refused }
            session.serverFirst = "r=\(nonce)SERVERNONCE,s=\(Data(Self.salt).base64EncodedString()),i=\(Self.iterations)"
            return .success(Array(session.serverFirst.utf8))
        }
        let attributes = ScramClient.attributes(text)
        guard attributes["c"] == "biws", let nonce = attributes["r"], session.serverFirst.hasPrefix("r=\(nonce),"),
              let proofText = attributes["p"], let proof = Data(base64Encoded: proofText),
              let proofStart = text.range(of: ",p=") else { throw Bad("malformed client-final: \(text)") }
        let authMessage = Array("\(session.clientFirstBare),\(session.serverFirst),\(text[..<proofStart.lowerBound])".utf8)
        let salted = try ScramClient.pbkdf2(hash, password: Array(account.password.utf8), salt: Self.salt, iterations: Self.iterations)
        let storedKey = ScramClient.digest(hash, ScramClient.hmac(hash, key: salted, Array("Client Key".utf8)))
        let signature = ScramClient.hmac(hash, key: storedKey, authMessage)
        let clientKey = zip(Array(proof), signature).map { $0 ^ $1 }
        guard proof.count == signature.count, ScramClient.digest(hash, clientKey) == storedKey else { return refused }
        session.authenticated = true
        let serverPassword = account.forgeServerSignature ? "not-" + account.password : account.password
        let serverSalted = try ScramClient.pbkdf2(hash, password: Array(serverPassword.utf8), salt: Self.salt, iterations: Self.iterations)
        let serverKey = ScramClient.hmac(hash, key: serverSalted, Array("Server Key".utf8))
        return .success(Array("v=\(Data(ScramClient.hmac(hash, key: serverKey, authMessage)).base64EncodedString())".utf8))
    }
}
