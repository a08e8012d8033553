import Crypto
import Foundation
import Hummingbird
import Storage

/// Checks a request's credentials against the users and tokens in the ``Store``.
///
/// Accepted, in this order: `Authorization: Bearer <token>` (also `Token <token>`), `Authorization: Basic`
/// (`user:password`, as Kapacitor and InfluxDB take it), and InfluxDB's `u`/`p` query parameters (what
/// Telegraf's influxdb output sends with `username`/`password`). Users and tokens are read from the store
/// on every request, so a revoked token or deleted user is refused at once. A password is checked with
/// PBKDF2 once; later requests with the same password are matched against an in-memory keyed digest, as
/// long as the stored hash has not changed.
final class Authenticator: @unchecked Sendable {
    static let missing = "unable to parse authentication credentials"
    static let failed = "authorization failed"

    let store: Store
    private let lock = NSLock()
    /// By user: the stored hash the password was verified against, and HMAC(key, password).
    private var verified: [String: (hash: String, proof: [UInt8])] = [:]
    private let key = SymmetricKey(size: .bits256)

    init(store: Store) { self.store = store }

    enum Credentials: Equatable {
        case password(user: String, password: String)
        case token(String)
    }

    /// The credentials a request carries, or nil when it carries none.
    static func credentials(of request: Request) throws(APIError) -> Credentials? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw APIError(.unauthorized, missing) }
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            switch parts[0].lowercased() {
            case "bearer", "token":
                return .token(value)
            case "basic":
                guard let data = Data(base64Encoded: value), let text = String(data: data, encoding: .utf8),
                      let colon = text.firstIndex(of: ":") else { throw APIError(.unauthorized, missing) }
                return .password(user: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
            default:
                throw APIError(.unauthorized, missing)
            }
        }
        let query = request.uri.queryParameters
        if let user = query.get("u"), !user.isEmpty {
            return .password(user: user, password: query.get("p") ?? "")
        }
        return nil
    }

    /// The user the request's credentials name; 401 when it carries none or they are wrong.
    func authenticate(_ request: Request) throws(APIError) -> AuthenticatedUser {
        guard let credentials = try Self.credentials(of: request) else { throw APIError(.unauthorized, Self.missing) }
        let user: StoredUser
        do {
            switch credentials {
            case .token(let text):
                guard let found = try store.token(hash: StoredToken.digest(of: text)) else { throw APIError(.unauthorized, Self.failed) }
                user = found.user
            case .password(let name, let password):
                guard let found = try store.user(name), check(password, of: found) else {
                    throw APIError(.unauthorized, Self.failed)
                }
                user = found
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internalServerError, "\(error)")
        }
        return Self.authenticated(user)
    }

    static func authenticated(_ user: StoredUser) -> AuthenticatedUser {
        AuthenticatedUser(name: user.name, isAdmin: user.type == "admin",
                          permissions: Set(user.permissionList.compactMap(Permission.init(rawValue:))))
    }

    private func check(_ password: String, of user: StoredUser) -> Bool {
        let proof = Array(HMAC<SHA256>.authenticationCode(for: Array(password.utf8), using: key))
        lock.lock()
        let known = verified[user.name]
        lock.unlock()
        if let known, known.hash == user.passwordHash {
            return PasswordHash.constantTimeEqual(known.proof, proof)
        }
        guard PasswordHash.verify(password, against: user.passwordHash) else { return false }
        lock.lock()
        verified[user.name] = (user.passwordHash, proof)
        lock.unlock()
        return true
    }
}
