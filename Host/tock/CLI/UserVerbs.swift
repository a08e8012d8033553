import ArgumentParser
import Foundation
import Server
import Storage

/// `tock users …`: the daemon's users and API tokens, over the API (`/kapacitor/v1/users`, needs an admin's
/// credentials, or the user's own for `passwd` and tokens) or, with `--data-dir` or `--config`, straight
/// in the daemon's database: how the first admin is made on a fresh daemon with authentication on.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Manage the daemon's users and API tokens.",
        discussion: """
            Permissions: read (GET the API), write (/write), tasks (define and change tasks and templates; \
            implies read), admin (everything; also --admin). The first admin on a fresh daemon: \
            `tock users add NAME --admin --data-dir DIR` on the daemon's host (writes the database directly; \
            the daemon may be running). New passwords come from --user-password or the first line of stdin.
            """,
        subcommands: [UsersList.self, UsersAdd.self, UsersPasswd.self, UsersDelete.self, UsersToken.self])
}

/// Where `tock users` acts: the server's API, or its database when `--data-dir` or `--config` is given.
struct UserTarget: ParsableArguments {
    @OptionGroup var server: ServerOptions

    @Option(name: [.customLong("data-dir"), .customLong("data-dir", withSingleDash: true)],
            help: "Act on the database in this data directory instead of the server's API (bootstrap).")
    var dataDir: String?

    @Option(name: [.customLong("config"), .customLong("config", withSingleDash: true)],
            help: "Act on the database named by this daemon configuration instead of the server's API.")
    var config: String?

    enum Operation {
        case list, create(JSON), update(String, JSON), delete(String), tokens(String), mint(String, JSON), revoke(String, String)
    }

    /// Runs `operation`, returning the answer's JSON object (empty for deletions).
    func perform(_ operation: Operation) async throws -> [String: Any] {
        if dataDir != nil || config != nil { return try direct(operation) }
        var result: [String: Any] = [:]
        try await server.run { client in
            let base = "/users"
            func escape(_ s: String) -> String { KapacitorClient.escape(s) }
            func body(_ json: JSON) -> Any { (try? JSONSerialization.jsonObject(with: Data(json.serialized.utf8))) ?? [:] }
            switch operation {
            case .list: result = try await client.request("GET", base).object()
            case .create(let json): result = try await client.request("POST", base, json: body(json)).object()
            case .update(let name, let json):
                result = try await client.request("PATCH", "\(base)/\(escape(name))", json: body(json)).object()
            case .delete(let name): try await client.request("DELETE", "\(base)/\(escape(name))")
            case .tokens(let name): result = try await client.request("GET", "\(base)/\(escape(name))/tokens").object()
            case .mint(let name, let json):
                result = try await client.request("POST", "\(base)/\(escape(name))/tokens", json: body(json)).object()
            case .revoke(let name, let id): try await client.request("DELETE", "\(base)/\(escape(name))/tokens/\(escape(id))")
            }
        }
        return result
    }

    private func direct(_ operation: Operation) throws -> [String: Any] {
        var configuration: ServerConfiguration
        do { configuration = try ServerConfiguration.load(file: config) } catch {
            Stderr.write("tock users: \(error)\n")
            throw ExitCode(2)
        }
        if let dataDir { configuration.dataDirectory = dataDir }
        do {
            let api = UserAPI(store: try Store(path: configuration.resolvedStoragePath))
            let answer: JSON
            switch operation {
            case .list: answer = try api.list()
            case .create(let json): answer = try api.create(json)
            case .update(let name, let json): answer = try api.update(name, json)
            case .delete(let name): try api.delete(name); answer = .object([])
            case .tokens(let name): answer = try api.tokens(name)
            case .mint(let name, let json): answer = try api.mint(name, json)
            case .revoke(let name, let id): try api.revoke(id, of: name); answer = .object([])
            }
            return (try JSONSerialization.jsonObject(with: Data(answer.serialized.utf8))) as? [String: Any] ?? [:]
        } catch let error as APIError {
            Stderr.write(error.message + "\n")
            throw ExitCode(3)
        } catch let error as StoreError {
            Stderr.write("tock users: \(error)\n")
            throw ExitCode(3)
        }
    }
}

/// A new password: the flag, else the first line of standard input.
private func newPassword(_ flag: String?, for user: String) throws -> String {
    if let flag, !flag.isEmpty { return flag }
    if isatty(0) != 0 { Stderr.write("password for \(user): ") }
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw ValidationError("give the new password with --user-password or on standard input")
    }
    return line
}

struct UsersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List users: name, type, permissions.")
    @OptionGroup var target: UserTarget

    func run() async throws {
        let users = try await target.perform(.list)["users"] as? [[String: Any]] ?? []
        print(Table.pad("Name", 24) + Table.pad("Type", 10) + "Permissions")
        for user in users {
            let permissions = (user["permissions"] as? [String] ?? []).joined(separator: ",")
            print(Table.pad(user["name"] as? String ?? "", 24) + Table.pad(user["type"] as? String ?? "", 10) + permissions)
        }
    }
}

struct UsersAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Create a user.")
    @Argument(help: "The user name.") var name: String
    @Flag(name: [.customLong("admin"), .customLong("admin", withSingleDash: true)], help: "Make an admin (every permission).")
    var admin = false
    @Option(name: [.customLong("permissions"), .customLong("permissions", withSingleDash: true)],
            help: "Comma-separated: read, write, tasks, admin.")
    var permissions: String?
    @Option(name: [.customLong("user-password"), .customLong("user-password", withSingleDash: true)],
            help: "The new user's password (default: the first line of stdin).")
    var userPassword: String?
    @OptionGroup var target: UserTarget

    func run() async throws {
        let password = try newPassword(userPassword, for: name)
        let list = (permissions ?? "").split(separator: ",").map { JSON.string($0.trimmingCharacters(in: .whitespaces)) }
        _ = try await target.perform(.create(.object([
            ("name", .string(name)), ("password", .string(password)),
            ("type", .string(admin ? "admin" : "normal")), ("permissions", .array(list)),
        ])))
        print("created user \(name)")
    }
}

struct UsersPasswd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "passwd", abstract: "Set a user's password.",
                                                    aliases: ["set-password"])
    @Argument(help: "The user name.") var name: String
    @Option(name: [.customLong("user-password"), .customLong("user-password", withSingleDash: true)],
            help: "The new password (default: the first line of stdin).")
    var userPassword: String?
    @OptionGroup var target: UserTarget

    func run() async throws {
        let password = try newPassword(userPassword, for: name)
        _ = try await target.perform(.update(name, .object([("password", .string(password))])))
        print("changed the password of \(name)")
    }
}

struct UsersDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete users and their tokens.")
    @Argument(help: "User names.") var names: [String]
    @OptionGroup var target: UserTarget

    func run() async throws {
        for name in names { _ = try await target.perform(.delete(name)) }
    }
}

struct UsersToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Create, list and revoke API tokens.",
                                                    subcommands: [TokenCreate.self, TokenList.self, TokenRevoke.self])
}

struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Mint a token for a user; prints it once (send it as 'Authorization: Bearer <token>' or -token).")
    @Argument(help: "The user name.") var name: String
    @Option(name: [.customLong("description"), .customLong("description", withSingleDash: true)], help: "What the token is for.")
    var description = ""
    @OptionGroup var target: UserTarget

    func run() async throws {
        let token = try await target.perform(.mint(name, .object([("description", .string(description))])))
        print(token["token"] as? String ?? "")
        let id = token["id"] as? String ?? ""
        Stderr.write("token \(id) for \(name): shown only now; revoke it with `tock users token revoke \(name) \(id)`\n")
    }
}

struct TokenList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a user's tokens (never their text).")
    @Argument(help: "The user name.") var name: String
    @OptionGroup var target: UserTarget

    func run() async throws {
        let tokens = try await target.perform(.tokens(name))["tokens"] as? [[String: Any]] ?? []
        print(Table.pad("ID", 16) + Table.pad("Created", 34) + "Description")
        for t in tokens {
            print(Table.pad(t["id"] as? String ?? "", 16) + Table.pad(t["created"] as? String ?? "", 34) + (t["description"] as? String ?? ""))
        }
    }
}

struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke tokens of a user by ID.")
    @Argument(help: "The user name.") var name: String
    @Argument(help: "Token IDs (as `token list` shows them).") var ids: [String]
    @OptionGroup var target: UserTarget

    func run() async throws {
        for id in ids { _ = try await target.perform(.revoke(name, id)) }
    }
}
