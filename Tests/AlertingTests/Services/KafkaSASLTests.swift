import Engine
import Foundation
import Testing
@testable import Alerting

/// SASL on `[[kafka]]` clusters (Kapacitor's `sasl-*` keys): PLAIN and SCRAM-SHA-256/512 against
/// ``KafkaTestBroker`` with an account, the SCRAM client against the RFC 7677 vector, and the configuration refusals.
@Suite("kafka: SASL PLAIN and SCRAM authentication", .serialized)
struct KafkaSASLTests {
    static func service(port: Int, _ sasl: ConfigTable) throws -> KafkaService {
        var table: ConfigTable = ["enabled": .bool(true), "brokers": .array([.string("127.0.0.1:\(port)")])]
        table.merge(sasl) { _, new in new }
        return try KafkaService(elements: [table])
    }

    static let account = KafkaTestBroker.SASLAccount(mechanisms: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"],
                                                     username: "tock", password: "pencil,=secret")

    @Test("RFC 7677's SCRAM-SHA-256 example: the client-final message, its proof and the server signature")
    func rfc7677Vector() throws {
        let client = ScramClient(hash: .sha256, username: "user", password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO")
        #expect(client.clientFirst == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let final = try client.final(serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        #expect(final.message == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        try ScramClient.verify(serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", expected: final.serverSignature)
        #expect(throws: ScramError("the server's signature does not match (the server does not know the password)")) {
            try ScramClient.verify(serverFinal: "v=AAAA", expected: final.serverSignature)
        }
    }

    @Test("PBKDF2-HMAC-SHA256 matches RFC 7914's vector (first block), SHA-512 a published one; the SCRAM user name escapes = and ,")
    func primitives() throws {
        let derived = try ScramClient.pbkdf2(.sha256, password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1)
        #expect(derived.map { String(format: "%02x", $0) }.joined() == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
        let long = try ScramClient.pbkdf2(.sha512, password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096)
        #expect(long.map { String(format: "%02x", $0) }.joined() == "d197b1b33db0143e018b12f3d1d1479e6cdebdcc97c5c0f87f6902e072f457b5143f30602641b3d55cd335988cb36b84376060ecd532e039b742a239434af2d5")
        #expect(throws: ScramError("the server asks for 0 iterations")) {
            try ScramClient.pbkdf2(.sha256, password: [], salt: [], iterations: 0)
        }
        #expect(ScramClient(hash: .sha512, username: "a=b,c", password: "", nonce: "N").clientFirstBare == "n=a=3Db=2Cc,r=N")
        let client = ScramClient(hash: .sha256, username: "u", password: "p", nonce: "abc")
        #expect(throws: ScramError("the server's nonce does not extend the client's")) { try client.final(serverFirst: "r=xyz1,s=AAAA,i=1") }
        #expect(throws: ScramError("the server refused: unknown-user")) { try client.final(serverFirst: "e=unknown-user") }
    }

    @Test("each SASL mechanism authenticates every connection before Metadata and Produce (handshake v1)",
          arguments: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
    func authenticates(mechanism: String) async throws {
        let broker = try await KafkaTestBroker(partitions: 1, account: Self.account)
        let service = try Self.service(port: broker.port, ["sasl-username": .string("tock"), "sasl-password": .string("pencil,=secret"),
                                                           "sasl-mechanism": .string(mechanism)])
        try await service.makeSender(options: ["topic": .string("t")]).send(Events.critical)
        await broker.stop()
        let rounds = mechanism == "PLAIN" ? 1 : 2
        #expect(broker.apiKeys == [17] + Array(repeating: 36, count: rounds) + [3, 0])
        #expect(broker.saslLog.withLock { $0.first } == "handshake v1 \(mechanism)")
        #expect(broker.produced.count == 1)
    }

    @Test("sasl-username alone means PLAIN, as sarama's default; sasl-version 0 sends the tokens as raw frames")
    func plainDefaultAndVersion0() async throws {
        let broker = try await KafkaTestBroker(partitions: 1, account: Self.account)
        let plain = try Self.service(port: broker.port, ["sasl-username": .string("tock"), "sasl-password": .string("pencil,=secret")])
        try await plain.makeSender(options: ["topic": .string("t")]).send(Events.critical)
        let scram0 = try Self.service(port: broker.port, ["sasl-username": .string("tock"), "sasl-password": .string("pencil,=secret"),
                                                          "sasl-mechanism": .string("SCRAM-SHA-512"), "sasl-version": .int(0)])
        try await scram0.makeSender(options: ["topic": .string("t")]).send(Events.critical)
        await broker.stop()
        let log = broker.saslLog.withLock { $0 }
        #expect(log.first == "handshake v1 PLAIN")
        #expect(log.dropFirst().first == "\0tock\0pencil,=secret")
        #expect(log.contains("handshake v0 SCRAM-SHA-512"))
        #expect(broker.apiKeys == [17, 36, 3, 0, 17, 3, 0])
        #expect(broker.produced.count == 2)
    }

    @Test("a wrong password is a permanent failure naming the broker and the mechanism, and nothing is produced",
          arguments: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
    func wrongPassword(mechanism: String) async throws {
        let broker = try await KafkaTestBroker(partitions: 1, account: Self.account)
        let port = broker.port
        let service = try Self.service(port: port, ["sasl-username": .string("tock"), "sasl-password": .string("wrong"),
                                                    "sasl-mechanism": .string(mechanism)])
        let failure = await #expect(throws: DeliveryFailure.self) {
            try await service.makeSender(options: ["topic": .string("t")]).send(Events.critical)
        }
        await broker.stop()
        #expect(failure?.isRetryable == false)
        #expect(failure?.reason == "kafka cluster \"default\": SASL \(mechanism) authentication with broker 127.0.0.1:\(port) failed: "
            + "SASL_AUTHENTICATION_FAILED: \(KafkaTestBroker.refusal) \(mechanism)")
        #expect(broker.produced.isEmpty)
        #expect(!broker.apiKeys.contains(3))
    }

    @Test("a broker that does not enable the mechanism, or whose server signature is forged, fails authentication")
    func refusedMechanismAndForgedServer() async throws {
        let plainOnly = try await KafkaTestBroker(partitions: 1, account: .init(mechanisms: ["PLAIN"], username: "tock", password: "pw"))
        let port = plainOnly.port
        let service = try Self.service(port: port, ["sasl-username": .string("tock"), "sasl-password": .string("pw"),
                                                              "sasl-mechanism": .string("SCRAM-SHA-256")])
        let refused = await #expect(throws: DeliveryFailure.self) { try await service.makeSender(options: ["topic": .string("t")]).send(Events.critical) }
        await plainOnly.stop()
        #expect(refused?.isRetryable == false)
        #expect(refused?.reason == "kafka cluster \"default\": SASL SCRAM-SHA-256 authentication with broker 127.0.0.1:\(port) failed: "
            + "UNSUPPORTED_SASL_MECHANISM (the broker enables PLAIN)")

        let impostor = try await KafkaTestBroker(partitions: 1, account: .init(mechanisms: ["SCRAM-SHA-256"], username: "tock", password: "pw",
                                                                               forgeServerSignature: true))
        let fooled = try Self.service(port: impostor.port, ["sasl-username": .string("tock"), "sasl-password": .string("pw"),
                                                            "sasl-mechanism": .string("SCRAM-SHA-256")])
        let forged = await #expect(throws: DeliveryFailure.self) { try await fooled.makeSender(options: ["topic": .string("t")]).send(Events.critical) }
        await impostor.stop()
        #expect(forged?.reason.hasSuffix("failed: the server's signature does not match (the server does not know the password)") == true)
        #expect(impostor.produced.isEmpty)
    }

    /// A TLS terminator in front of a plain broker: accepts TLS on argv[1] with argv[2]/argv[3] and pipes each
    /// connection to 127.0.0.1:argv[4].
    static let tlsProxy = #"""
import socket, ssl, sys, threading
port, cert, key, target = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError: pass
    finally:
        for s in (a, b):
            try: s.close()
            except OSError: pass
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); srv.bind(("127.0.0.1", port)); srv.listen(8)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    try: t = ctx.wrap_socket(c, server_side=True)
    except (ssl.SSLError, OSError): c.close(); continue
    u = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pipe, args=(t, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, t), daemon=True).start()
"""#

    @Test("with use-ssl, SCRAM runs inside TLS: handshake, authenticate, metadata and produce all cross the TLS connection")
    func scramOverTLS() async throws {
        let certificate = try await TLSPathTests.Certificate.make()
        let broker = try await KafkaTestBroker(partitions: 1, account: Self.account)
        let proxyPort = try ReceiverProcess.freePort()
        broker.advertisedPort.withLock { $0 = proxyPort }
        let proxy = try await ReceiverProcess("/usr/bin/env", ["python3", "-c", Self.tlsProxy, String(proxyPort), certificate.cert,
                                                              certificate.key, String(broker.port)],
                                              port: proxyPort, directory: certificate.directory, ready: "ready")
        defer { proxy.stop() }
        let service = try Self.service(port: proxyPort, ["use-ssl": .bool(true), "ssl-ca": .string(certificate.cert),
                                                         "sasl-username": .string("tock"), "sasl-password": .string("pencil,=secret"),
                                                         "sasl-mechanism": .string("SCRAM-SHA-512")])
        try await service.makeSender(options: ["topic": .string("t")]).send(Events.critical)
        await broker.stop()
        #expect(broker.apiKeys == [17, 36, 36, 3, 0])
        #expect(broker.saslLog.withLock { $0.first } == "handshake v1 SCRAM-SHA-512")
        #expect(broker.produced.count == 1)
    }

    @Test("the configuration refuses GSSAPI, OAUTHBEARER, unknown mechanisms and sasl-version other than 0 or 1, and shows the sasl keys")
    func configuration() throws {
        let base: ConfigTable = ["enabled": .bool(true), "brokers": .array([.string("b:9092")]), "id": .string("c1")]
        func with(_ extra: ConfigTable) -> [ConfigTable] { [base.merging(extra) { _, new in new }] }
        #expect(throws: ConfigError("[[kafka]] c1: sasl-mechanism \"GSSAPI\" is not supported by Tock's kafka service (supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")) {
            try KafkaService(elements: with(["sasl-mechanism": .string("GSSAPI"), "sasl-gssapi-realm": .string("EXAMPLE.COM")]))
        }
        #expect(throws: ConfigError("[[kafka]] c1: sasl-mechanism \"OAUTHBEARER\" is not supported by Tock's kafka service (supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")) {
            try KafkaService(elements: with(["sasl-mechanism": .string("OAUTHBEARER"), "sasl-access-token": .string("t")]))
        }
        #expect(throws: ConfigError("[[kafka]] c1: unknown sasl-mechanism \"SCRAM-SHA-1\" (supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")) {
            try KafkaService(elements: with(["sasl-mechanism": .string("SCRAM-SHA-1")]))
        }
        #expect(throws: ConfigError("[[kafka]] c1: invalid SASL version 2: sasl-version must be 0 or 1")) {
            try KafkaService(elements: with(["sasl-username": .string("u"), "sasl-version": .int(2)]))
        }
        #expect(throws: ConfigError.self) { try KafkaService(elements: with(["sasl-unknown": .string("x")])) }

        let service = try KafkaService(elements: with(["sasl-username": .string("u"), "sasl-password": .string("p"),
                                                       "sasl-mechanism": .string("SCRAM-SHA-512"), "sasl-version": .int(0),
                                                       "sasl_extensions": .table(["k": .string("v")]),
                                                       "sasl-gssapi-disable-pafxfast": .bool(true)]))
        let shown = try #require(service.elements.first)
        #expect(shown["sasl-username"] == .string("u"))
        #expect(shown["sasl-password"] == .bool(true))
        #expect(shown["sasl-mechanism"] == .string("SCRAM-SHA-512"))
        #expect(shown["sasl-version"] == .int(0))
        #expect(shown["sasl_extensions"] == .table(["k": .string("v")]))
        #expect(shown["sasl-gssapi-disable-pafxfast"] == .bool(true))
        #expect(service.producers["c1"]?.settings.sasl == KafkaSASL(mechanism: .scramSHA512, username: "u", password: "p", handshakeVersion: 0))
        #expect(try KafkaService(elements: with([:])).producers["c1"]?.settings.sasl == nil)
    }
}
