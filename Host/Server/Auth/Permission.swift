import HTTPTypes

/// What a user may do. An `admin` user (type `admin`, or the `admin` permission) may do everything.
///
/// - `read`: GET the API (tasks, templates, statistics, `httpOut` results, `/metrics`).
/// - `write`: `POST /write` (InfluxDB's line protocol), nothing else.
/// - `tasks`: define, change, enable, disable and delete tasks and templates; implies `read`.
/// - `admin`: all of the above, users and their tokens, and the log level.
public enum Permission: String, Sendable, CaseIterable {
    case read, write, tasks, admin

    /// The names `permissions` may hold, in the order shown in errors.
    static let names = allCases.map(\.rawValue)

    /// The permission a request needs; `nil` for the open endpoints (`/ping`). Users' own records and tokens
    /// (`/users/<self>…`) need only a login, checked by ``UserAPI``.
    static func required(method: HTTPRequest.Method, path: String) -> Permission? {
        let base = TaskAPI.base
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        if path == "/ping" || path == base + "/ping" || path == TaskAPI.previewBase + "/ping" { return nil }
        if path == "/write" || path == base + "/write" { return method == .post ? .write : .admin }
        if path == base + "/users" || path.hasPrefix(base + "/users/") { return .admin }
        if method == .get || method == .head { return .read }
        for collection in ["/tasks", "/templates"] where path == base + collection || path.hasPrefix(base + collection + "/") {
            return .tasks
        }
        return .admin
    }
}

/// The user a request was authenticated as, for handlers that need it (users managing themselves).
enum RequestUser {
    @TaskLocal static var current: AuthenticatedUser?
}

/// A user whose credentials were checked, with what they may do.
struct AuthenticatedUser: Sendable {
    let name: String
    let isAdmin: Bool
    let permissions: Set<Permission>

    func has(_ permission: Permission) -> Bool {
        if isAdmin || permissions.contains(.admin) { return true }
        if permission == .read && permissions.contains(.tasks) { return true }
        return permissions.contains(permission)
    }
}
