import Foundation
import GRDB
import Storage
import Testing

/// A database written by an older Tock opens in a newer one: its rows are kept and the later migrations
/// are applied on top.
@Suite("Store: upgrading a database made by an older schema")
struct SchemaUpgradeTests {
    /// The schema as Tock's first release (migration v1) wrote it, frozen here as SQL so that an edit to
    /// a shipped migration cannot change what this test starts from.
    static let v1Schema = """
        CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
        INSERT INTO grdb_migrations VALUES ('v1: tasks and templates');
        CREATE TABLE "task" (
          "id" TEXT PRIMARY KEY NOT NULL,
          "templateID" TEXT NOT NULL DEFAULT '',
          "type" TEXT NOT NULL,
          "dbrps" TEXT NOT NULL,
          "script" TEXT NOT NULL,
          "status" TEXT NOT NULL,
          "vars" TEXT NOT NULL DEFAULT '{}',
          "created" INTEGER NOT NULL,
          "modified" INTEGER NOT NULL,
          "lastEnabled" INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE "template" (
          "id" TEXT PRIMARY KEY NOT NULL,
          "type" TEXT NOT NULL,
          "script" TEXT NOT NULL,
          "created" INTEGER NOT NULL,
          "modified" INTEGER NOT NULL);
        INSERT INTO task (id, type, dbrps, script, status, created, modified, lastEnabled)
          VALUES ('cpu_alert', 'stream', '[{"db":"telegraf","rp":"autogen"}]', 'stream|from().measurement(''cpu'')',
                  'enabled', 100, 200, 300);
        INSERT INTO template (id, type, script, created, modified)
          VALUES ('generic', 'stream', 'var m string
        stream|from().measurement(m)', 10, 20);
        """

    @Test("a v1 database keeps its tasks and templates and gains snapshots, alert state and users")
    func upgradeFromV1() throws {
        let directory = NSTemporaryDirectory() + "tock-upgrade-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/tock.db"
        do {
            let old = try DatabaseQueue(path: path)
            try old.write { try $0.execute(sql: Self.v1Schema) }
            try old.close()
        }

        let store = try Store(path: path)
        #expect(try store.appliedMigrations() == ["v1: tasks and templates", "v2: udf snapshots", "v3: alert state",
                                                  "v4: users and tokens", "v5: recordings and replays", "v6: config overrides", "v7: silences",
                                                  "v8: topic handlers and topic events",
                                                  "v9: dead letters", "v10: hosts", "v11: host recent metrics"])
        let task = try #require(try store.task("cpu_alert"))
        #expect(task.dbrps == [StoredDBRP(db: "telegraf", rp: "autogen")])
        #expect(task.script == "stream|from().measurement('cpu')")
        #expect(task.status == "enabled")
        #expect(task.vars == "{}")
        #expect((task.created, task.modified, task.lastEnabled) == (100, 200, 300))
        #expect(try store.template("generic")?.script == "var m string\nstream|from().measurement(m)")

        // The tables of the later migrations work on the upgraded file.
        try store.replaceUDFSnapshots([(taskID: "cpu_alert", nodeID: "avg2", data: [1, 2, 3])])
        #expect(try store.udfSnapshots().map(\.data) == [[1, 2, 3]])
        try store.saveAlertStates([StoredAlertState(taskID: "cpu_alert", nodeID: "alert2", alertID: "cpu:host=a", level: 3, time: 5)])
        #expect(try store.alertState(taskID: "cpu_alert", nodeID: "alert2", alertID: "cpu:host=a")?.level == 3)
        try store.save(StoredUser(name: "root", type: "admin", permissions: ["admin"], passwordHash: "x", created: 1, modified: 1))
        #expect(try store.users().map(\.name) == ["root"])
        try store.replaceConfigOverrides(section: "slack", with: [StoredConfigOverride(id: "slack/", options: ##"{"channel":"#ops"}"##, create: false)])
        #expect(try store.configOverrides(section: "slack").map(\.options) == [##"{"channel":"#ops"}"##])
        try store.saveTopicHandler(StoredTopicHandler(topic: "cpu", id: "ops", json: ##"{"id":"ops","kind":"log"}"##))
        #expect(try store.topicHandlers().map(\.id) == ["ops"])
        try store.saveHostSamples([StoredSample(host: "web1", measurement: "cpu", tags: ["host": "web1"], field: "usage_user", time: 10, value: 1.5)])
        #expect(try store.hostSamples(since: 0).map(\.value) == [1.5])

        // Opening it again applies nothing twice.
        let reopened = try Store(path: path)
        #expect(try reopened.appliedMigrations().count == 11)
        #expect(try reopened.tasks().map(\.id) == ["cpu_alert"])
    }
}
