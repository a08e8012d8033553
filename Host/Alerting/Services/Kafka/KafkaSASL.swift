import Crypto
import _CryptoExtras
import Foundation

/// The SASL settings of one `[[kafka]]` cluster, as Kapacitor's `services/kafka/sasl.go` (`SASLAuth`) gives them to
/// sarama: SASL is on when `sasl-username` or `sasl-mechanism` is set; the mechanism defaults to `PLAIN`; the
/// handshake version is 1 (sarama's default for Kafka ≥ 1.0) unless `sasl-version` says 0.
struct KafkaSASL: Sendable, Hashable {
    /// The mechanisms Tock speaks. GSSAPI and OAUTHBEARER are refused when the configuration is read.
    enum Mechanism: String, Sendable, Hashable, CaseIterable {
        case plain = "PLAIN"
        case scramSHA256 = "SCRAM-SHA-256"
        case scramSHA512 = "SCRAM-SHA-512"
    }

    var mechanism: Mechanism
    var username: String
    var password: String
    /// The SaslHandshake version: 1 carries the SASL tokens in SaslAuthenticate requests, 0 sends them as raw
    /// size-prefixed frames after the handshake.
    var handshakeVersion: Int16

    /// Reads the `sasl-*` keys of a `[[kafka]]` element; `nil` when SASL is off.
    /// - Throws: a ``ConfigError`` naming the cluster and the key for an unsupported mechanism or version.
    static func read(mechanism: String, username: String, password: String, version: Int64?,
                     cluster: String) throws(ConfigError) -> KafkaSASL? {
        guard !username.isEmpty || !mechanism.isEmpty else { return nil }
        let chosen: Mechanism
        switch mechanism {
        case "": chosen = .plain
        case "GSSAPI", "OAUTHBEARER":
            throw ConfigError("[[kafka]] \(cluster): sasl-mechanism \"\(mechanism)\" is not supported by Tock's kafka service (supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")
        default:
            guard let known = Mechanism(rawValue: mechanism) else {
                throw ConfigError("[[kafka]] \(cluster): unknown sasl-mechanism \"\(mechanism)\" (supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")
            }
            chosen = known
        }
        let handshake: Int16
        switch version {
        case nil, 1?: handshake = 1
        case 0?: handshake = 0
        case let other?: throw ConfigError("[[kafka]] \(cluster): invalid SASL version \(other): sasl-version must be 0 or 1")
        }
        return KafkaSASL(mechanism: chosen, username: username, password: password, handshakeVersion: handshake)
    }

    /// The SASL conversation for one connection: the first token, then one answer per server challenge.
    func conversation(nonce: String = ScramClient.makeNonce()) -> KafkaSASLConversation {
        switch mechanism {
        case .plain: .plain(username: username, password: password)
        case .scramSHA256: .scram(ScramClient(hash: .sha256, username: username, password: password, nonce: nonce))
        case .scramSHA512: .scram(ScramClient(hash: .sha512, username: username, password: password, nonce: nonce))
        }
    }
}

/// One client side of a SASL exchange.
enum KafkaSASLConversation: Sendable {
    /// RFC 4616: one message, `authzid NUL authcid NUL passwd` with an empty authzid, as sarama sends it.
    case plain(username: String, password: String)
    case scram(ScramClient)

    /// PLAIN's single message.
    static func plainMessage(username: String, password: String) -> [UInt8] {
        [0] + Array(username.utf8) + [0] + Array(password.utf8)
    }
}

/// A failed SCRAM step: what the server sent that the client cannot accept.
struct ScramError: Error, Sendable, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The client half of SCRAM (RFC 5802) with SHA-256 (RFC 7677) or SHA-512, without channel binding (`n,,`), as
/// sarama's `XDGSCRAMClient` runs it. The password is used as its UTF-8 bytes (no SASLprep, which leaves ASCII
/// passwords unchanged).
struct ScramClient: Sendable {
    enum Hash: Sendable { case sha256, sha512 }

    let hash: Hash
    let username: String
    let password: String
    let nonce: String

    /// A 24-byte random nonce, base64 (printable, no comma).
    static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
    }

    /// `n=user,r=nonce`, with `=` and `,` in the name escaped as `=3D` and `=2C`.
    var clientFirstBare: String {
        let name = username.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
        return "n=\(name),r=\(nonce)"
    }

    /// The first message: the GS2 header `n,,` and the bare message.
    var clientFirst: String { "n,," + clientFirstBare }

    /// What the client sends after the server's first message, and the server signature it must then see.
    struct Final: Sendable, Equatable {
        var message: String
        var serverSignature: [UInt8]
    }

    /// Answers the server-first message (`r=…,s=…,i=…`) with the client-final message and its proof.
    func final(serverFirst: String) throws(ScramError) -> Final {
        if serverFirst.hasPrefix("e=") { throw ScramError("the server refused: \(serverFirst.dropFirst(2))") }
        let attributes = Self.attributes(serverFirst)
        guard let combined = attributes["r"], let saltText = attributes["s"], let iterationsText = attributes["i"] else {
            throw ScramError("the server's first message \"\(serverFirst)\" lacks r, s or i")
        }
        if attributes["m"] != nil { throw ScramError("the server asks for a mandatory extension, which is not supported") }
        guard combined.hasPrefix(nonce), combined.count > nonce.count else {
            throw ScramError("the server's nonce does not extend the client's")
        }
        guard let salt = Data(base64Encoded: saltText) else { throw ScramError("the server's salt is not base64") }
        guard let iterations = Int(iterationsText), iterations > 0 else {
            throw ScramError("the server's iteration count \"\(iterationsText)\" is not a positive integer")
        }
        let withoutProof = "c=biws,r=\(combined)"
        let salted = try Self.pbkdf2(hash, password: Array(password.utf8), salt: Array(salt), iterations: iterations)
        let clientKey = Self.hmac(hash, key: salted, Array("Client Key".utf8))
        let storedKey = Self.digest(hash, clientKey)
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = Self.hmac(hash, key: storedKey, authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = Self.hmac(hash, key: salted, Array("Server Key".utf8))
        let serverSignature = Self.hmac(hash, key: serverKey, authMessage)
        return Final(message: "\(withoutProof),p=\(Data(proof).base64EncodedString())", serverSignature: serverSignature)
    }

    /// Checks the server-final message (`v=…`) against the expected server signature.
    static func verify(serverFinal: String, expected: [UInt8]) throws(ScramError) {
        let attributes = attributes(serverFinal)
        if let error = attributes["e"] { throw ScramError("the server refused: \(error)") }
        guard let text = attributes["v"], let signature = Data(base64Encoded: text) else {
            throw ScramError("the server's final message \"\(serverFinal)\" carries no verifier")
        }
        guard Array(signature) == expected else { throw ScramError("the server's signature does not match (the server does not know the password)") }
    }

    /// `k=v` pairs separated by commas; a value keeps any `=` after the first.
    static func attributes(_ message: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in message.split(separator: ",", omittingEmptySubsequences: true) {
            guard let eq = part.firstIndex(of: "=") else { continue }
            out[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        return out
    }

    static func hmac(_ hash: Hash, key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch hash {
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }

    static func digest(_ hash: Hash, _ data: [UInt8]) -> [UInt8] {
        switch hash {
        case .sha256: Array(SHA256.hash(data: data))
        case .sha512: Array(SHA512.hash(data: data))
        }
    }

    /// PBKDF2 (RFC 8018) with HMAC over `hash`, one block: SCRAM's `Hi(password, salt, i)`, as long as the hash
    /// (swift-crypto's; any positive round count the server names is taken, as SCRAM asks).
    static func pbkdf2(_ hash: Hash, password: [UInt8], salt: [UInt8], iterations: Int) throws(ScramError) -> [UInt8] {
        guard iterations > 0 else { throw ScramError("the server asks for \(iterations) iterations") }
        let function: KDF.Insecure.PBKDF2.HashFunction = hash == .sha256 ? .sha256 : .sha512
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(from: password, salt: salt, using: function,
                                                        outputByteCount: hash == .sha256 ? 32 : 64,
                                                        unsafeUncheckedRounds: iterations)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw ScramError("PBKDF2 failed: \(error)")
        }
    }
}

extension KafkaWire {
    static let saslHandshakeKey: Int16 = 17
    static let saslAuthenticateKey: Int16 = 36

    /// SaslHandshake v0/v1: the mechanism's name.
    static func saslHandshakeBody(mechanism: String) -> [UInt8] {
        var w = KafkaWriter()
        w.string(mechanism)
        return w.bytes
    }

    /// A SaslHandshake response (after the correlation id): its error code and the mechanisms the broker enables.
    static func parseSaslHandshake(_ r: inout KafkaReader) throws(KafkaWireError) -> (error: Int16, mechanisms: [String]) {
        let error = try r.int16()
        var mechanisms: [String] = []
        for _ in 0..<(try r.count()) { mechanisms.append(try r.string() ?? "") }
        return (error, mechanisms)
    }

    /// SaslAuthenticate v0: the SASL token as bytes.
    static func saslAuthenticateBody(_ token: [UInt8]) -> [UInt8] {
        var w = KafkaWriter()
        w.int32(Int32(token.count))
        w.bytes.append(contentsOf: token)
        return w.bytes
    }

    /// A SaslAuthenticate v0 response (after the correlation id): error code, error message, the server's token.
    static func parseSaslAuthenticate(_ r: inout KafkaReader) throws(KafkaWireError) -> (error: Int16, message: String?, token: [UInt8]) {
        let error = try r.int16()
        let message = try r.string()
        let length = Int(try r.int32())
        return (error, message, length < 0 ? [] : try r.raw(length))
    }
}
