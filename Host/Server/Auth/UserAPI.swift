import Foundation
import Hummingbird
import Storage

/// Kapacitor's `/kapacitor/v1/users` resource, plus `/users/<name>/tokens` for API tokens.
///
/// A user is `{"name", "type": "normal"|"admin", "permissions": [...]}`; the password is accepted on create
/// and patch and never returned. Admins manage everyone; any user may read their own record, change their
/// own password, and mint, list and revoke their own tokens. A token's text is returned once, when minted.
public struct UserAPI: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }
    static var base: String { TaskAPI.base + "/users" }

    func register(on router: Router<BasicRequestContext>) {
        router.get(RouterPath(Self.base)) { _, _ in try TockAPI.json(list()) }
        router.post(RouterPath(Self.base)) { request, _ in try TockAPI.json(create(await TockAPI.body(request))) }
        router.get(RouterPath(Self.base + "/:name")) { _, context in try TockAPI.json(get(context.parameters.require("name"))) }
        router.patch(RouterPath(Self.base + "/:name")) { request, context in
            try TockAPI.json(update(context.parameters.require("name"), await TockAPI.body(request)))
        }
        router.delete(RouterPath(Self.base + "/:name")) { _, context in
            try delete(context.parameters.require("name"))
            return Response(status: .noContent)
        }
        router.get(RouterPath(Self.base + "/:name/tokens")) { _, context in
            try TockAPI.json(tokens(context.parameters.require("name")))
        }
        router.post(RouterPath(Self.base + "/:name/tokens")) { request, context in
            try TockAPI.json(mint(context.parameters.require("name"), await TockAPI.body(request)))
        }
        router.delete(RouterPath(Self.base + "/:name/tokens/:id")) { _, context in
            try revoke(context.parameters.require("id"), of: context.parameters.require("name"))
            return Response(status: .noContent)
        }
    }

    /// Whether `path` is the user's own record or tokens, which any logged-in user may reach.
    static func isOwn(path: String, user: String) -> Bool {
        let decoded = path.removingPercentEncoding ?? path
        let own = base + "/" + user
        return decoded == own || decoded.hasPrefix(own + "/tokens")
    }

    // MARK: Users

    public func list() throws(APIError) -> JSON {
        .object([("users", .array(try run { try store.users() }.map(Self.json)))])
    }

    public func get(_ name: String) throws(APIError) -> JSON {
        Self.json(try existing(name))
    }

    /// `POST /users`: `{"name", "password", "type", "permissions"}`.
    public func create(_ body: JSON) throws(APIError) -> JSON {
        guard let name = body["name"]?.stringValue, !name.isEmpty else { throw APIError(.badRequest, "must provide a user name") }
        try Self.validate(name: name)
        if try run({ try store.user(name) }) != nil { throw APIError(.badRequest, "user \(name) already exists") }
        guard let password = body["password"]?.stringValue, !password.isEmpty else {
            throw APIError(.badRequest, "must provide a password for user \(name)")
        }
        let now = nowNanoseconds()
        let user = StoredUser(name: name, type: try Self.type(body["type"]?.stringValue ?? "normal"),
                              permissions: try Self.permissions(body["permissions"]),
                              passwordHash: PasswordHash.make(password), created: now, modified: now)
        try run { try store.save(user) }
        return Self.json(user)
    }

    /// `PATCH /users/<name>`: changes the password, type or permissions given.
    public func update(_ name: String, _ body: JSON) throws(APIError) -> JSON {
        var user = try existing(name)
        let caller = RequestUser.current
        if let caller, !caller.has(.admin), body["type"] != nil || body["permissions"] != nil {
            throw APIError(.forbidden, "user \(caller.name) may change only their own password: changing type or permissions needs admin")
        }
        if let password = body["password"] {
            guard let text = password.stringValue, !text.isEmpty else { throw APIError(.badRequest, "password must be a non-empty string") }
            user.passwordHash = PasswordHash.make(text)
        }
        if let type = body["type"] { user.type = try Self.type(type.stringValue ?? "") }
        if let permissions = body["permissions"] { user.permissionList = try Self.permissions(permissions) }
        user.modified = nowNanoseconds()
        try run { try store.save(user) }
        return Self.json(user)
    }

    public func delete(_ name: String) throws(APIError) {
        guard try run({ try store.deleteUser(name) }) else { throw APIError(.notFound, "user \(name) does not exist") }
    }

    // MARK: Tokens

    public func tokens(_ name: String) throws(APIError) -> JSON {
        _ = try existing(name)
        return .object([("tokens", .array(try run { try store.tokens(user: name) }.map { Self.json($0, text: nil) }))])
    }

    /// `POST /users/<name>/tokens` with an optional `{"description"}`: the new token, its text shown only here.
    public func mint(_ name: String, _ body: JSON) throws(APIError) -> JSON {
        _ = try existing(name)
        let minted = StoredToken.mint(user: name, description: body["description"]?.stringValue ?? "", now: nowNanoseconds())
        try run { try store.save(minted.token) }
        return Self.json(minted.token, text: minted.text)
    }

    public func revoke(_ id: String, of name: String) throws(APIError) {
        guard try run({ try store.deleteToken(id, user: name) }) else {
            throw APIError(.notFound, "user \(name) has no token \(id)")
        }
    }

    // MARK: Helpers

    private func existing(_ name: String) throws(APIError) -> StoredUser {
        guard let user = try run({ try store.user(name) }) else { throw APIError(.notFound, "user \(name) does not exist") }
        return user
    }

    private func run<T>(_ body: () throws -> T) throws(APIError) -> T {
        do { return try body() } catch { throw APIError(.internalServerError, "\(error)") }
    }

    static func validate(name: String) throws(APIError) {
        let valid = name.unicodeScalars.allSatisfy { s in
            s == "-" || s == "." || s == "_" || s == "@" || ("0"..."9").contains(s) || s.properties.isAlphabetic
        }
        guard valid else {
            throw APIError(.badRequest, "user name must contain only letters, numbers, '-', '.', '_' and '@': \"\(name)\"")
        }
    }

    static func type(_ text: String) throws(APIError) -> String {
        guard text == "normal" || text == "admin" else {
            throw APIError(.badRequest, "invalid user type \"\(text)\": use normal or admin")
        }
        return text
    }

    static func permissions(_ value: JSON?) throws(APIError) -> [String] {
        guard let value else { return [] }
        guard let items = value.arrayValue else { throw APIError(.badRequest, "permissions must be a list of names") }
        var names: [String] = []
        for item in items {
            guard let name = item.stringValue, Permission(rawValue: name) != nil else {
                throw APIError(.badRequest, "unknown permission \(item.serialized): use \(Permission.names.joined(separator: ", "))")
            }
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    static func json(_ user: StoredUser) -> JSON {
        .object([
            ("link", .object([("rel", .string("self")), ("href", .string("\(base)/\(user.name)"))])),
            ("name", .string(user.name)),
            ("type", .string(user.type)),
            ("permissions", .array(user.permissionList.map(JSON.string))),
        ])
    }

    static func json(_ token: StoredToken, text: String?) -> JSON {
        var members: [(String, JSON)] = [
            ("link", .object([("rel", .string("self")), ("href", .string("\(base)/\(token.user)/tokens/\(token.id)"))])),
            ("id", .string(token.id)),
            ("user", .string(token.user)),
            ("description", .string(token.description)),
            ("created", .string(rfc3339Nano(token.created))),
        ]
        if let text { members.append(("token", .string(text))) }
        return .object(members)
    }
}
