import Foundation
import Hummingbird
@testable import Server
import Storage
import Testing

@Suite("HTTP API with authentication: credentials, permissions, users and tokens")
struct AuthRouteTests {
    static let define = TaskRouteTests.define

    func basic(_ user: String, _ password: String) -> [String: String] {
        ["Authorization": "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
    }

    /// A daemon with auth on and the users `root` (admin), `reader` (read), `writer` (write), `author` (tasks).
    func withAuth(_ body: @Sendable (Client) async throws -> Void) async throws {
        var fixture = Fixture()
        fixture.configuration.authEnabled = true
        defer { fixture.remove() }
        let master = try fixture.master()
        for (name, type, permissions) in [("root", "admin", [String]()), ("reader", "normal", ["read"]),
                                          ("writer", "normal", ["write"]), ("author", "normal", ["tasks"])] {
            try master.store.save(StoredUser(name: name, type: type, permissions: permissions,
                                             passwordHash: PasswordHash.make(name + "pw", iterations: 100), created: 1, modified: 1))
        }
        try await fixture.serve(master, body)
    }

    @Test("401 without or with wrong credentials; /ping stays open")
    func unauthorized() async throws {
        try await withAuth { client in
            let none = try await client.execute(uri: "/kapacitor/v1/tasks")
            #expect(none.status == .unauthorized)
            #expect(none.text == "{\"error\":\"unable to parse authentication credentials\"}\n")
            #expect(none.headers["www-authenticate"] == nil, "no challenge: URLSession on Linux stalls on one it cannot answer")
            let wrong = try await client.execute(uri: "/kapacitor/v1/tasks", headers: basic("root", "nope"))
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text == "{\"error\":\"authorization failed\"}\n")
            let unknown = try await client.execute(uri: "/kapacitor/v1/tasks", headers: basic("nobody", "x"))
            #expect(unknown.text == "{\"error\":\"authorization failed\"}\n")
            let token = try await client.execute(uri: "/kapacitor/v1/tasks", headers: ["Authorization": "Bearer tock_x_y"])
            #expect(token.text == "{\"error\":\"authorization failed\"}\n")
            #expect(try await client.execute(uri: "/ping").status == .noContent)
            #expect(try await client.execute(uri: "/kapacitor/v1/ping").status == .noContent)
        }
    }

    @Test("read may GET, tasks may define, write may only /write, admin may do everything")
    func permissions() async throws {
        try await withAuth { client in
            let readerDefines = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", headers: basic("reader", "readerpw"),
                                                         body: Self.define)
            #expect(readerDefines.status == .forbidden)
            #expect(readerDefines.text == "{\"error\":\"user reader does not have the tasks permission needed for POST /kapacitor/v1/tasks\"}\n")
            let authorDefines = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", headers: basic("author", "authorpw"),
                                                         body: Self.define)
            #expect(authorDefines.status == .ok)
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks/cpu", headers: basic("reader", "readerpw")).status == .ok)
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks/cpu", headers: basic("author", "authorpw")).status == .ok)
            let writerReads = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", headers: basic("writer", "writerpw"))
            #expect(writerReads.text == "{\"error\":\"user writer does not have the read permission needed for GET /kapacitor/v1/tasks/cpu\"}\n")
            let readerWrites = try await client.execute(uri: "/write?db=telegraf", method: "POST", headers: basic("reader", "readerpw"),
                                                        body: "cpu value=1")
            #expect(readerWrites.text == "{\"error\":\"user reader does not have the write permission needed for POST /write\"}\n")
            let writes = try await client.execute(uri: "/write?db=telegraf&u=writer&p=writerpw", method: "POST", body: "cpu value=1")
            #expect(writes.status == .noContent)
            let authorLevel = try await client.execute(uri: "/kapacitor/v1/loglevel", method: "POST", headers: basic("author", "authorpw"),
                                                       body: "{\"level\":\"debug\"}")
            #expect(authorLevel.text == "{\"error\":\"user author does not have the admin permission needed for POST /kapacitor/v1/loglevel\"}\n")
            let rootDeletes = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "DELETE", headers: basic("root", "rootpw"))
            #expect(rootDeletes.status == .noContent)
        }
    }

    @Test("users API: create, get, patch, delete in Kapacitor's shape; never a password or hash")
    func users() async throws {
        try await withAuth { client in
            let root = basic("root", "rootpw")
            let created = try await client.execute(uri: "/kapacitor/v1/users", method: "POST", headers: root,
                                                   body: #"{"name":"bob","password":"bobpw","permissions":["read","write"]}"#)
            #expect(created.text == #"{"link":{"rel":"self","href":"/kapacitor/v1/users/bob"},"name":"bob","type":"normal","permissions":["read","write"]}"# + "\n")
            let list = try await client.execute(uri: "/kapacitor/v1/users", headers: root)
            #expect(!list.text.contains("pbkdf2") && !list.text.contains("password") && !list.text.contains("bobpw"))
            #expect(list.json["users"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["author", "bob", "reader", "root", "writer"])

            let errors: [(String, String)] = [
                (#"{"name":"bob","password":"x"}"#, "user bob already exists"),
                (#"{"name":"carol"}"#, "must provide a password for user carol"),
                (#"{"name":"carol","password":"x","type":"root"}"#, "invalid user type \"root\": use normal or admin"),
                (#"{"name":"carol","password":"x","permissions":["all"]}"#, "unknown permission \"all\": use read, write, tasks, admin"),
                (#"{"name":"a b","password":"x"}"#, "user name must contain only letters, numbers, '-', '.', '_' and '@': \"a b\""),
            ]
            for (body, message) in errors {
                let answer = try await client.execute(uri: "/kapacitor/v1/users", method: "POST", headers: root, body: body)
                #expect(answer.status == .badRequest)
                #expect(answer.json["error"] == .string(message))
            }

            let own = try await client.execute(uri: "/kapacitor/v1/users/bob", headers: basic("bob", "bobpw"))
            #expect(own.json["name"] == .string("bob"), "a user may read their own record")
            let other = try await client.execute(uri: "/kapacitor/v1/users/root", headers: basic("bob", "bobpw"))
            #expect(other.text == "{\"error\":\"user bob does not have the admin permission needed for GET /kapacitor/v1/users/root\"}\n")

            let promoted = try await client.execute(uri: "/kapacitor/v1/users/bob", method: "PATCH", headers: root,
                                                    body: #"{"type":"admin","password":"bobpw2"}"#)
            #expect(promoted.json["type"] == .string("admin"))
            #expect(try await client.execute(uri: "/kapacitor/v1/users/root", headers: basic("bob", "bobpw")).status == .unauthorized)
            #expect(try await client.execute(uri: "/kapacitor/v1/users/root", headers: basic("bob", "bobpw2")).status == .ok)

            #expect(try await client.execute(uri: "/kapacitor/v1/users/bob", method: "DELETE", headers: root).status == .noContent)
            let gone = try await client.execute(uri: "/kapacitor/v1/users/bob", method: "DELETE", headers: root)
            #expect(gone.status == .notFound)
            #expect(gone.json["error"] == .string("user bob does not exist"))
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks", headers: basic("bob", "bobpw2")).status == .unauthorized)
        }
    }

    @Test("tokens: minted with their text once, listed without it, accepted as Bearer, refused after revocation")
    func tokens() async throws {
        try await withAuth { client in
            let minted = try await client.execute(uri: "/kapacitor/v1/users/reader/tokens", method: "POST",
                                                  headers: basic("reader", "readerpw"), body: #"{"description":"grafana"}"#)
            #expect(minted.status == .ok)
            let text = try #require(minted.json["token"]?.stringValue)
            let id = try #require(minted.json["id"]?.stringValue)
            #expect(text.hasPrefix("tock_\(id)_"))
            #expect(minted.json["description"] == .string("grafana"))

            let bearer = ["Authorization": "Bearer \(text)"]
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks", headers: bearer).status == .ok)
            let tokenDefines = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", headers: bearer, body: Self.define)
            #expect(tokenDefines.status == .forbidden, "a token carries its user's permissions, no more")

            let list = try await client.execute(uri: "/kapacitor/v1/users/reader/tokens", headers: bearer)
            #expect(list.json["tokens"]?.arrayValue?.count == 1)
            #expect(!list.text.contains(text))

            let foreign = try await client.execute(uri: "/kapacitor/v1/users/writer/tokens", method: "POST", headers: bearer)
            #expect(foreign.status == .forbidden)

            let revoked = try await client.execute(uri: "/kapacitor/v1/users/reader/tokens/\(id)", method: "DELETE",
                                                   headers: basic("root", "rootpw"))
            #expect(revoked.status == .noContent)
            let after = try await client.execute(uri: "/kapacitor/v1/tasks", headers: bearer)
            #expect(after.status == .unauthorized)
            #expect(after.text == "{\"error\":\"authorization failed\"}\n")
            let again = try await client.execute(uri: "/kapacitor/v1/users/reader/tokens/\(id)", method: "DELETE",
                                                 headers: basic("root", "rootpw"))
            #expect(again.json["error"] == .string("user reader has no token \(id)"))
        }
    }

    @Test("an .exec() program outside the allow-list is refused at define time, naming the program and setting")
    func execAllowList() async throws {
        var fixture = Fixture()
        fixture.configuration.execAllowed = ["/bin/true"]
        defer { fixture.remove() }
        try await fixture.serve(try fixture.master()) { client in
            func define(_ id: String, _ program: String) -> String {
                let script = "stream\\n    |from()\\n        .measurement('cpu')\\n    |alert()\\n        .crit(lambda: \\\"value\\\" > 1)\\n        .exec('\(program)')\\n"
                return #"{"id":""# + id + #"","type":"stream","dbrps":[{"db":"telegraf","rp":"autogen"}],"status":"enabled","script":""# + script + #""}"#
            }
            let allowed = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: define("ok", "/bin/true"))
            #expect(allowed.status == .ok)
            let refused = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: define("bad", "/bin/sh"))
            #expect(refused.status == .badRequest)
            let message = refused.json["error"]?.stringValue ?? ""
            #expect(message.hasPrefix("6:9: alert .exec(): program /bin/sh is not allowed: add its exact path to [alert] exec-allowed in the daemon's configuration (it holds /bin/true)"),
                    "\(message)")
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks/bad").status == .notFound)
        }
    }
}
