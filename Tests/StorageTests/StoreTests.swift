import Foundation
import Storage
import Testing

@Suite("Store: task and template definitions in SQLite")
struct StoreTests {
    let directory: String

    init() {
        directory = NSTemporaryDirectory() + "tock-store-\(UUID().uuidString)"
    }

    func task(_ id: String, status: String = "enabled") -> StoredTask {
        StoredTask(id: id, type: "stream", dbrps: [StoredDBRP(db: "telegraf", rp: "autogen")],
                   script: "stream|from()", status: status, vars: "{}", created: 1, modified: 2, lastEnabled: 3)
    }

    @Test("a saved task is there after the database is closed and opened again")
    func persistsAcrossReopen() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let store = try Store(path: directory + "/tock.db")
            try store.save(task("cpu"))
            try store.save(task("mem", status: "disabled"))
        }
        let reopened = try Store(path: directory + "/tock.db")
        #expect(try reopened.tasks().map(\.id) == ["cpu", "mem"])
        #expect(try reopened.task("cpu") == task("cpu"))
        #expect(try reopened.task("mem")?.status == "disabled")
    }

    @Test("saving a task with an existing id replaces it; deleting reports whether it existed")
    func replaceAndDelete() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(path: directory + "/tock.db")
        try store.save(task("cpu"))
        var changed = task("cpu")
        changed.script = "stream|from().measurement('cpu')"
        try store.save(changed)
        #expect(try store.task("cpu")?.script == "stream|from().measurement('cpu')")
        #expect(try store.deleteTask("cpu") == true)
        #expect(try store.deleteTask("cpu") == false)
        #expect(try store.task("cpu") == nil)
    }

    @Test("a template and the tasks made from it are saved together")
    func templates() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(path: directory + "/tock.db")
        let template = StoredTemplate(id: "t1", type: "stream", script: "var m string\nstream|from().measurement(m)",
                                      created: 1, modified: 1)
        var t = task("from-t1")
        t.templateID = "t1"
        try store.save(template, tasks: [t])
        #expect(try store.templates() == [template])
        #expect(try store.task("from-t1")?.templateID == "t1")
        #expect(try store.deleteTemplate("t1"))
        #expect(try store.template("t1") == nil)
    }

    @Test("the schema is migrated once and the database is in WAL mode")
    func migrations() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try Store(path: directory + "/tock.db")
        let store = try Store(path: directory + "/tock.db")
        #expect(try store.appliedMigrations() == ["v1: tasks and templates", "v2: udf snapshots", "v3: alert state",
                                                  "v4: users and tokens", "v5: recordings and replays", "v6: config overrides", "v7: silences",
                                                  "v8: topic handlers and topic events",
                                                  "v9: dead letters", "v10: hosts", "v11: host recent metrics"])
        #expect(FileManager.default.fileExists(atPath: directory + "/tock.db-wal"))
    }

    @Test("UDF snapshots saved at shutdown are read back, replacing the previous set")
    func udfSnapshots() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(path: directory + "/tock.db")
        try store.replaceUDFSnapshots([("t1", "udf1", [1, 2, 3]), ("t2", "udf3", [])])
        try store.replaceUDFSnapshots([("t1", "udf1", [9])])
        let read = try Store(path: directory + "/tock.db").udfSnapshots()
        #expect(read.count == 1)
        #expect(read.first?.taskID == "t1" && read.first?.nodeID == "udf1" && read.first?.data == [9])
    }

    @Test("a database path that cannot be created is reported with the path")
    func unwritablePath() {
        let error = #expect(throws: StoreError.self) { try Store(path: "/proc/tock-cannot-exist/tock.db") }
        #expect(error?.path == "/proc/tock-cannot-exist/tock.db")
        #expect(error?.description.hasPrefix("storage /proc/tock-cannot-exist/tock.db: cannot ") == true, "\(String(describing: error))")
    }
}

@Suite("Config overrides in the store")
struct ConfigOverrideStoreTests {
    @Test("replacing one section's overrides leaves the other sections' alone; a section name is not a prefix match")
    func sections() throws {
        let path = NSTemporaryDirectory() + "tock-overrides-\(UUID().uuidString)/tock.db"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let store = try Store(path: path)
        try store.replaceConfigOverrides(section: "slack", with: [StoredConfigOverride(id: "slack/", options: "{}", create: false),
                                                                   StoredConfigOverride(id: "slack/b", options: #"{"workspace":"b"}"#, create: true)])
        try store.replaceConfigOverrides(section: "pagerduty", with: [StoredConfigOverride(id: "pagerduty/", options: "{}", create: false)])
        try store.replaceConfigOverrides(section: "pagerduty2", with: [StoredConfigOverride(id: "pagerduty2/", options: "{}", create: false)])
        #expect(try store.configOverrides().map(\.id) == ["pagerduty/", "pagerduty2/", "slack/", "slack/b"])
        #expect(try store.configOverrides(section: "slack").map(\.create) == [false, true])
        try store.replaceConfigOverrides(section: "pagerduty", with: [])
        #expect(try store.configOverrides().map(\.id) == ["pagerduty2/", "slack/", "slack/b"])
    }
}
