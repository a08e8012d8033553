import Foundation
import Testing

/// Authentication, HTTPS and the `.exec()` allow-list, driven as a user would: a real `tock serve` with a
/// configuration file, the `tock` CLI and plain HTTP.
@Suite("Daemon security end to end", .serialized)
struct SecurityTests {
    static let script = "stream\n    |from()\n        .measurement('cpu')\n    |httpOut('out')\n"



    func basic(_ user: String, _ password: String) -> [String: String] {
        ["Authorization": "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
    }

    @Test("auth on: 401 without or with bad credentials, 403 for a read-only user, admin by password and by token, revocation")
    func authentication() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: "[http]\n  auth-enabled = true\n")
        defer { daemon.stop() }
        let tick = try file("cpu.tick", Self.script, in: dir)
        let define = ["define", "cpu", "-tick", tick, "-dbrp", "telegraf.autogen"]

        // Bootstrap: the first admin is written straight into the running daemon's database.
        let added = try TockBinary.runProgram(TockBinary.path, ["users", "add", "root", "--admin", "--user-password", "rootpw",
                                                                "--data-dir", dir])
        #expect(ok(added, "users add root") == "created user root\n")

        let open = try await HTTP.send("GET", daemon.url + "/ping")
        #expect(open.status == 204, "/ping needs no credentials")

        let anonymous = try daemon.cli(["list", "tasks"])
        #expect(anonymous.status == 3)
        #expect(anonymous.stderr == "unable to parse authentication credentials\n")
        let raw = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/tasks")
        #expect(raw.status == 401)
        #expect(String(decoding: raw.body, as: UTF8.self) == "{\"error\":\"unable to parse authentication credentials\"}\n")
        let wrong = try daemon.cli(["list", "tasks", "-username", "root", "-password", "nope"])
        #expect(wrong.stderr == "authorization failed\n")

        let admin = ["-username", "root", "-password", "rootpw"]
        ok(try daemon.cli(["users", "add", "reader", "--permissions", "read", "--user-password", "readpw"] + admin), "add reader")
        // Credentials from the environment, with double-dash flags.
        ok(try daemon.cli(["users", "add", "telegraf", "--permissions", "write"], input: Data("telegrafpw\n".utf8),
                          environment: ["TOCK_USERNAME": "root", "TOCK_PASSWORD": "rootpw"]), "add telegraf")

        let refused = try daemon.cli(define + ["--username", "reader", "--password", "readpw"])
        #expect(refused.status == 3)
        #expect(refused.stderr == "user reader does not have the tasks permission needed for POST /kapacitor/v1/tasks\n")
        #expect(ok(try daemon.cli(["list", "tasks", "-username", "reader", "-password", "readpw"]), "reader lists")
                == "ID                            Type      Status    Executing Databases and Retention Policies\n")

        ok(try daemon.cli(define + admin), "admin defines by password")
        ok(try daemon.cli(["enable", "cpu"] + admin), "admin enables")

        // Telegraf's influxdb output: basic auth, or u/p in the query.
        let line = Data("cpu,host=a value=1 1\n".utf8)
        let byHeader = try await HTTP.send("POST", daemon.url + "/write?db=telegraf&rp=autogen&precision=s", body: line,
                                           headers: basic("telegraf", "telegrafpw"))
        #expect(byHeader.status == 204)
        let byQuery = try await HTTP.send("POST", daemon.url + "/write?db=telegraf&rp=autogen&precision=s&u=telegraf&p=telegrafpw",
                                          body: line)
        #expect(byQuery.status == 204)
        let badQuery = try await HTTP.send("POST", daemon.url + "/write?db=telegraf&u=telegraf&p=wrong", body: line)
        #expect(badQuery.status == 401)
        #expect(String(decoding: badQuery.body, as: UTF8.self) == "{\"error\":\"authorization failed\"}\n")
        let writerReads = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/tasks", headers: basic("telegraf", "telegrafpw"))
        #expect(writerReads.status == 403)
        #expect(String(decoding: writerReads.body, as: UTF8.self)
                == "{\"error\":\"user telegraf does not have the read permission needed for GET /kapacitor/v1/tasks\"}\n")

        // A token: minted once, accepted as a bearer token, refused once revoked.
        let minted = try daemon.cli(["users", "token", "create", "root", "--description", "ci"] + admin)
        let token = ok(minted, "token create").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("tock_"))
        let id = String(token.dropFirst(5).prefix { $0 != "_" })
        #expect(minted.stderr == "token \(id) for root: shown only now; revoke it with `tock users token revoke root \(id)`\n")
        ok(try daemon.cli(["delete", "tasks", "cpu", "-token", token]), "delete by token")
        ok(try daemon.cli(define, environment: ["TOCK_TOKEN": token]), "define by token from the environment")
        let bearer = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/tasks/cpu", headers: ["Authorization": "Bearer \(token)"])
        #expect(bearer.status == 200)
        let tokens = ok(try daemon.cli(["users", "token", "list", "root"] + admin), "token list")
        #expect(tokens.contains(id) && tokens.contains("ci") && !tokens.contains(token))
        ok(try daemon.cli(["users", "token", "revoke", "root", id] + admin), "revoke")
        let revoked = try daemon.cli(["list", "tasks", "-token", token])
        #expect(revoked.stderr == "authorization failed\n")

        // Users are listed without any password material.
        let users = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/users", headers: basic("root", "rootpw"))
        let body = String(decoding: users.body, as: UTF8.self)
        #expect(users.status == 200)
        #expect(body.contains("{\"link\":{\"rel\":\"self\",\"href\":\"/kapacitor/v1/users/reader\"},\"name\":\"reader\",\"type\":\"normal\",\"permissions\":[\"read\"]}"))
        for secret in ["pbkdf2", "password", "readpw", "rootpw", "hash"] { #expect(!body.contains(secret), "\(secret) leaked: \(body)") }
        #expect(ok(try daemon.cli(["users", "list"] + admin), "users list") == """
            Name                    Type      Permissions
            reader                  normal    read
            root                    admin     
            telegraf                normal    write

            """)

        // Users change their own password, not their own permissions.
        ok(try daemon.cli(["users", "passwd", "reader", "--user-password", "newpw", "-username", "reader", "-password", "readpw"]),
           "reader changes own password")
        #expect(try daemon.cli(["list", "tasks", "-username", "reader", "-password", "readpw"]).stderr == "authorization failed\n")
        ok(try daemon.cli(["list", "tasks", "-username", "reader", "-password", "newpw"]), "reader with the new password")
        let escalate = try await HTTP.send("PATCH", daemon.url + "/kapacitor/v1/users/reader",
                                           body: Data("{\"type\":\"admin\"}".utf8), headers: basic("reader", "newpw"))
        #expect(escalate.status == 403)
        #expect(String(decoding: escalate.body, as: UTF8.self)
                == "{\"error\":\"user reader may change only their own password: changing type or permissions needs admin\"}\n")
    }

    @Test("HTTPS with a self-signed certificate: the CLI connects with -ca or -skipVerify, and refuses it otherwise")
    func https() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try DaemonProcess.selfSignedCertificate(in: dir)
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: """
            [http]
              https-enabled = true
              https-certificate = "\(dir)/cert.pem"
              https-private-key = "\(dir)/key.pem"

            """, scheme: "https")
        defer { daemon.stop() }
        #expect(daemon.url.hasPrefix("https://"))
        let tick = try file("cpu.tick", Self.script, in: dir)

        ok(try daemon.cli(["define", "cpu", "-tick", tick, "-dbrp", "telegraf.autogen", "-ca", dir + "/cert.pem"]), "define over https with -ca")
        #expect(ok(try daemon.cli(["list", "tasks", "-skipVerify"]), "list with -skipVerify").contains("cpu "))
        ok(try daemon.cli(["show", "cpu"], environment: ["KAPACITOR_UNSAFE_SSL": "true"]), "show with KAPACITOR_UNSAFE_SSL")

        let untrusted = try daemon.cli(["list", "tasks"])
        #expect(untrusted.status == 4)
        #expect(untrusted.stderr.hasPrefix("cannot reach the server at \(daemon.url): TLS failure: "))
        #expect(untrusted.stderr.hasSuffix("(for a self-signed certificate pass -ca FILE or -skipVerify)\n"))

        // Plain HTTP on the https port fails (an error or a non-204 answer), and the daemon keeps serving https.
        let plain = try? await HTTP.send("GET", "http://127.0.0.1:\(daemon.port)/ping")
        #expect(plain?.status != 204, "plain HTTP is not served on an https port")
        #expect(daemon.process.isRunning, "the daemon survived a plain HTTP request on its https port")
        #expect(ok(try daemon.cli(["list", "tasks", "-skipVerify"]), "list after the plain HTTP request").contains("cpu "))
    }

    @Test(".exec() programs must be in [alert] exec-allowed: others are refused at define time, the old task kept")
    func execAllowList() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: "[alert]\n  exec-allowed = [\"/bin/true\"]\n")
        defer { daemon.stop() }
        func alert(_ exec: String) -> String {
            "stream\n    |from()\n        .measurement('cpu')\n    |alert()\n        .crit(lambda: \"value\" > 90)\n        .exec(\(exec))\n"
        }
        let allowed = try file("allowed.tick", alert("'/bin/true'"), in: dir)
        let denied = try file("denied.tick", alert("'/bin/sh', '-c', 'touch \(dir)/pwned'"), in: dir)

        ok(try daemon.cli(["define", "page", "-tick", allowed, "-dbrp", "telegraf.autogen"]), "define with an allowed program")
        let refused = try daemon.cli(["define", "page", "-tick", denied, "-dbrp", "telegraf.autogen"])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("alert .exec(): program /bin/sh is not allowed: add its exact path to [alert] exec-allowed in the daemon's configuration (it holds /bin/true)"),
                "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("6:9: "), "the error points at the .exec() call: \(refused.stderr)")
        let shown = ok(try daemon.cli(["show", "page"]), "show page")
        #expect(shown.contains(".exec('/bin/true')"), "the task defined before is untouched:\n\(shown)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/pwned"))
    }
}
