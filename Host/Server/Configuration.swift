import Collectors
import Alerting
import Engine
import Foundation
import InfluxDB
import TOMLKit
import TockModel

/// The daemon's settings, read from a kapacitor.conf-shaped TOML file and `TOCK_<SECTION>_<KEY>` variables.
///
/// Supported: top-level `hostname`, `data_dir`, `default-retention-policy`; `[http]` `bind-address`,
/// `log-enabled`, `max-body-size`, `read-timeout`, `auth-enabled`, `https-enabled`, `https-certificate`, `https-private-key`;
/// `[alert]` `exec-allowed`; `[logging]` `file`, `level`, `format`; `[storage]` `path`;
/// `[task]` `dir`, `snapshot-interval`; `[replay]` `dir`; `[udf]` (read by the UDF host); `[deadman]` and
/// `[[httppost]]` (``configSections``, for the task builder); `[[influxdb]]` (``influxDB``) and `[[udp]]` (``udp``);
/// `[stats]` (``stats``), `[load]` (``load``) and `[hosts]` (``hosts``); `[alerting]` and the sections of the registered alert services
/// (``alertSections``, `AlertingSections.swift`). Other Kapacitor sections (alert handlers, …) are accepted and
/// reported as not used.
public struct ServerConfiguration: Sendable, Equatable {
    public var hostname = "localhost"
    public var dataDirectory = "./var"
    public var defaultRetentionPolicy = ""
    /// `host:port`, `:port` (all interfaces) or `host:0` (a free port, logged at start).
    public var bindAddress = ":9092"
    public var logRequests = true
    /// The largest `/write` body accepted, in bytes (after gzip decoding); 0 for no limit.
    public var maxBodySize = 25_000_000
    /// `[http] read-timeout`, in nanoseconds: how long a request body may take to arrive (the request is then
    /// answered 408 and nothing of it is written), and how long a connection may stay silent before it is
    /// closed; 0: no limit.
    public var readTimeout: Int64 = 30 * GoDuration.second
    /// Every request but `/ping` needs a user's credentials (basic auth, `u`/`p` or a bearer token).
    public var authEnabled = false
    /// Serve HTTPS with `httpsCertificate` (PEM, may hold the chain and the key) and `httpsPrivateKey`.
    public var httpsEnabled = false
    public var httpsCertificate = "/etc/ssl/kapacitor.pem"
    /// Empty: the key is in the certificate file.
    public var httpsPrivateKey = ""
    /// `[alert] exec-allowed`: the programs alert `.exec()` handlers of API-defined tasks may start, exactly
    /// as the script names them. Empty: none.
    public var execAllowed: [String] = []
    /// `STDERR`, `STDOUT` or a file path.
    public var logFile = "STDERR"
    /// `DEBUG`, `INFO` or `ERROR`.
    public var logLevel = "INFO"
    /// `logfmt` or `json`.
    public var logFormat = "logfmt"
    /// The SQLite database; empty for `<data_dir>/tock.db`.
    public var storagePath = ""
    public var taskDirectory = ""
    public var snapshotInterval = "60s"
    public var replayDirectory = ""
    /// The configuration file, when one was read (the UDF host reads its `[udf]` section).
    public var file: String?
    /// Sections present in the file that this build reads but does not act on.
    public var unusedSections: [String] = []
    /// `[[collectors.NAME]]`: the built-in collectors the daemon runs, feeding its stream tasks.
    public var collectors: [CollectorConfig] = []
    /// Kapacitor's `[[scraper]]` sections (with their discoverers), run as collectors.
    public var scrapers: [CollectorConfig] = []
    /// `[[httppost]]` endpoints and `[deadman]` defaults, handed to the task builder.
    public var configSections = ConfigSections()
    /// `[[influxdb]]` clusters, in the order of the file.
    public var influxDB: [InfluxDBConfiguration] = []
    /// `[[udp]]` listeners.
    public var udp: [UDPConfiguration] = []
    /// `[stats]`: the daemon's statistics written into its own stream.
    public var stats = StatsSettings()
    /// `[load]`: tasks, templates and handlers defined from files.
    public var load = LoadSettings()
    /// `[hosts]`: the host inventory.
    public var hosts = HostsSettings()
    /// The alert services' sections, by section name, one table per element (``AlertingSections``).
    public var alertSections: [String: [ConfigTable]] = [:]
    /// `[alerting]`: how handlers deliver.
    public var alerting = DeliverySettings()
    /// `[config-override] enabled`: whether the config API answers (403 when off).
    public var configOverrideEnabled = true
    /// Top-level `skip-config-overrides`: start from the file alone, ignoring the overrides stored by the config API.
    public var skipConfigOverrides = false

    public init() {}

    /// The database file, resolved against the data directory.
    public var resolvedStoragePath: String {
        storagePath.isEmpty ? (dataDirectory as NSString).appendingPathComponent("tock.db") : storagePath
    }

    /// `[replay] dir`, where recordings are kept; empty for `<data_dir>/replay`.
    public var resolvedReplayDirectory: String {
        replayDirectory.isEmpty ? (dataDirectory as NSString).appendingPathComponent("replay") : replayDirectory
    }

    /// The `.exec()` policy of tasks defined over the API.
    public var execPolicy: ExecPolicy {
        ExecPolicy(allowedPrograms: Set(execAllowed), setting: "[alert] exec-allowed")
    }

    /// The host and port to listen on.
    public var bind: (host: String, port: Int) {
        get throws(ConfigurationError) {
            guard let colon = bindAddress.lastIndex(of: ":"),
                  let port = Int(bindAddress[bindAddress.index(after: colon)...]), (0...65535).contains(port) else {
                throw ConfigurationError("[http] bind-address \"\(bindAddress)\" is not host:port")
            }
            var host = String(bindAddress[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return (host.isEmpty ? "0.0.0.0" : host, port)
        }
    }

    /// Reads `file` (or only the defaults without one), then applies `TOCK_*` variables from `environment`.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> ServerConfiguration {
        var config = ServerConfiguration()
        if let file {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ConfigurationError("cannot read configuration file \(file): \(error.localizedDescription)")
            }
            try config.apply(toml: text, file: file)
            config.file = file
        }
        try config.apply(environment: environment)
        _ = try config.makeAlertingService()
        return config
    }

    /// Applies the settings of a TOML document.
    public mutating func apply(toml text: String, file: String = "configuration") throws(ConfigurationError) {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw ConfigurationError("\(file):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        } catch {
            throw ConfigurationError("\(file): \(error)")
        }
        for key in table.keys.sorted() {
            let value = table[key]!
            if key == "httppost" {
                // Both the httpPost node's endpoints and the alert post service's.
                try applyHTTPPost(value, file: file)
                try applyAlertSection(key, value, file: file)
            } else if key == "influxdb" {
                try applyInfluxDB(value, file: file)
            } else if key == "udp" {
                try applyUDP(value, file: file)
            } else if key == "collectors" {
                do { collectors = try CollectorsSection.parse(value, text: text, file: file) } catch {
                    throw ConfigurationError(error.description)
                }
            } else if ScraperSection.sectionNames.contains(key) {
                continue  // read below, once the discoverers they name are known
            } else if key == "notifiers" {
                // [notifiers.NAME]: notifier plugins, read with the UDFs by PluginHost's UDFConfiguration.
                continue
            } else if key == DeliverySettings.section {
                try applyAlerting(value, file: file)
            } else if Self.alertSectionNames.contains(key) {
                try applyAlertSection(key, value, file: file)
            } else if let section = value.table, Self.sections.contains(key) {
                for sub in section.keys.sorted() where !(key == "udf") {
                    if let array = section[sub]!.array {
                        let items = array.map { Self.text($0) }
                        try set(section: key, list: sub, items: items, origin: "\(file) [\(key)]")
                    } else {
                        try set(section: key, key: sub, value: Self.text(section[sub]!), origin: "\(file) [\(key)]")
                    }
                }
            } else if value.table == nil && value.array == nil || value.array?.count == 0 {
                try set(section: "", key: key, value: Self.text(value), origin: file)
            } else {
                unusedSections.append(key)
            }
        }
        do { scrapers = try ScraperSection.parse(table, text: text, file: file) } catch {
            throw ConfigurationError(error.description)
        }
    }

    /// Applies `TOCK_<SECTION>_<KEY>` (and top-level `TOCK_<KEY>`) variables; `_` in a key stands for `-`.
    public mutating func apply(environment: [String: String]) throws(ConfigurationError) {
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            if try applyAlertEnvironment(name: name, value: value) { continue }
            guard name.hasPrefix("TOCK_") else { continue }
            let rest = name.dropFirst(5).lowercased()
            if try applyIndexedSection(name: name, value: value) { continue }
            if let top = Self.topLevel.first(where: { $0.replacingOccurrences(of: "-", with: "_") == rest }) {
                try set(section: "", key: top, value: value, origin: name)
                continue
            }
            guard let underscore = rest.firstIndex(of: "_") else { continue }
            let section = String(rest[..<underscore])
            guard Self.sections.contains(section), section != "udf" else { continue }
            let key = rest[rest.index(after: underscore)...].replacingOccurrences(of: "_", with: "-")
            if Self.lists.contains("\(section).\(key)") {
                let items = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                try set(section: section, list: key, items: items, origin: name)
            } else {
                try set(section: section, key: key, value: value, origin: name)
            }
        }
    }

    static let topLevel = ["hostname", "data_dir", "default-retention-policy", "skip-config-overrides"]
    static let sections: Set<String> = ["http", "logging", "storage", "task", "replay", "udf", "alert", "deadman",
                                        "stats", "load", "config-override", "hosts"]
    /// Settings whose value is a list (a TOML array, or comma-separated in an environment variable).
    static let lists: Set<String> = ["alert.exec-allowed"]

    mutating func set(section: String, list key: String, items: [String], origin: String) throws(ConfigurationError) {
        switch (section, key) {
        case ("alert", "exec-allowed"):
            for item in items where !item.hasPrefix("/") {
                throw ConfigurationError("\(origin): exec-allowed entries must be absolute program paths, got \"\(item)\"")
            }
            execAllowed = items
        default:
            throw ConfigurationError("\(origin): unknown setting \(section).\(key) (a list)")
        }
    }

    static func text(_ value: any TOMLValueConvertible) -> String { ConfigurationText.text(value) }

    mutating func set(section: String, key: String, value: String, origin: String) throws(ConfigurationError) {
        func bool() throws(ConfigurationError) -> Bool {
            switch value.lowercased() {
            case "true": return true
            case "false": return false
            default: throw ConfigurationError("\(origin): \(key) must be true or false, got \"\(value)\"")
            }
        }
        switch (section, key) {
        case ("", "hostname"): hostname = value
        case ("", "data_dir"): dataDirectory = value
        case ("", "default-retention-policy"): defaultRetentionPolicy = value
        case ("", "skip-config-overrides"): skipConfigOverrides = try bool()
        case ("config-override", "enabled"): configOverrideEnabled = try bool()
        case ("http", "bind-address"): bindAddress = value
        case ("http", "log-enabled"): logRequests = try bool()
        case ("http", "auth-enabled"): authEnabled = try bool()
        case ("http", "max-body-size"):
            guard let n = Int(value), n >= 0 else {
                throw ConfigurationError("\(origin): max-body-size must be a number of bytes, got \"\(value)\"")
            }
            maxBodySize = n
        case ("http", "read-timeout"):
            guard let ns = GoDuration.parse(value), ns >= 0 else {
                throw ConfigurationError("\(origin): read-timeout must be a duration such as \"30s\" or \"2m\" (0 for none), got \"\(value)\"")
            }
            readTimeout = ns
        case ("http", "https-enabled"): httpsEnabled = try bool()
        case ("http", "https-certificate"): httpsCertificate = value
        case ("http", "https-private-key"): httpsPrivateKey = value
        case ("alert", "exec-allowed"):
            throw ConfigurationError("\(origin): exec-allowed must be a list of program paths, got \"\(value)\"")
        case ("alert", "persist-topics"), ("alert", "topic-buffer-length"):
            unusedSections.append("alert.\(key)")
        case ("http", "write-tracing"), ("http", "pprof-enabled"):
            unusedSections.append("http.\(key)")
        case ("logging", "file"): logFile = value
        case ("logging", "level"):
            guard ["DEBUG", "INFO", "WARN", "ERROR"].contains(value.uppercased()) else {
                throw ConfigurationError("\(origin): level must be DEBUG, INFO or ERROR, got \"\(value)\"")
            }
            logLevel = value.uppercased()
        case ("logging", "format"):
            guard ["logfmt", "json"].contains(value.lowercased()) else {
                throw ConfigurationError("\(origin): format must be logfmt or json, got \"\(value)\"")
            }
            logFormat = value.lowercased()
        case ("storage", "path"): storagePath = value
        case ("storage", "boltdb"): unusedSections.append("storage.boltdb")
        case ("task", "dir"): taskDirectory = value
        case ("task", "snapshot-interval"): snapshotInterval = value
        case ("replay", "dir"): replayDirectory = value
        case ("deadman", _): try setDeadman(key: key, value: value, origin: origin)
        case ("stats", _): try stats.set(key: key, value: value, origin: origin)
        case ("load", _): try load.set(key: key, value: value, origin: origin)
        case ("hosts", _): try hosts.set(key: key, value: value, origin: origin)
        default:
            throw ConfigurationError("\(origin): unknown setting \(section.isEmpty ? key : "\(section).\(key)")")
        }
    }

    /// `tock config`: the default configuration, commented.
    public static let defaultText = """
        # Tock configuration (kapacitor.conf shape). Every setting may be overridden by an environment
        # variable TOCK_<SECTION>_<KEY>, '-' written '_' (TOCK_HTTP_BIND_ADDRESS=127.0.0.1:9092), or
        # TOCK_<KEY> for the top-level keys (TOCK_DATA_DIR=/var/lib/tock).

        # The name this host reports.
        hostname = "localhost"
        # Where the task database (tock.db) lives.
        data_dir = "./var"
        # The retention policy of writes that name none; empty: "autogen", InfluxDB's default.
        default-retention-policy = ""

        [http]
          # host:port to listen on; ":9092" is every interface, "127.0.0.1:0" a free port (logged at start).
          bind-address = ":9092"
          # Log one line per request.
          log-enabled = true
          # The largest /write body accepted, in bytes after gzip decoding (413 beyond); 0: no limit.
          max-body-size = 25000000
          # How long a request body may take to arrive, counted from the start of the request (Go durations:
          # "30s", "2m"). A /write whose body is slower is answered 408 and none of it is written; a connection
          # silent this long (mid-request or between requests) is closed. "0s": no limit.
          read-timeout = "30s"
          # Require credentials on every request but /ping: HTTP basic auth (user:password), InfluxDB's u/p
          # query parameters on /write, or "Authorization: Bearer <token>". Users have the permissions
          # read (GET the API), write (/write), tasks (define/change tasks and templates; implies read)
          # and admin (everything, also users, tokens and the log level). Manage them with `tock users`.
          # The first admin: `tock users add NAME --admin --data-dir <data_dir>` on this host.
          auth-enabled = false
          # Serve HTTPS instead of HTTP (clients: -url https://…; -ca FILE or -skipVerify for a self-signed cert).
          https-enabled = false
          # PEM certificate (chain); it may also hold the private key.
          https-certificate = "/etc/ssl/kapacitor.pem"
          # PEM private key; empty: read it from https-certificate.
          https-private-key = ""

        [alert]
          # The programs alert .exec() handlers of tasks defined over the API may start, as exact absolute
          # paths the script names (.exec('/usr/local/bin/page', 'ops')). Empty: none. `tock run` is not
          # restricted. Environment: TOCK_ALERT_EXEC_ALLOWED=/usr/local/bin/page,/usr/bin/logger
          exec-allowed = []

        [logging]
          # STDERR, STDOUT or a file path. Lines are logfmt.
          file = "STDERR"
          # DEBUG, INFO or ERROR.
          level = "INFO"
          # logfmt (ts=… lvl=info msg=… task=… node=…) or json (one object per line, the same keys).
          format = "logfmt"

        [storage]
          # The SQLite database holding tasks and templates; empty: <data_dir>/tock.db.
          path = ""

        [task]
          dir = ""
          snapshot-interval = "60s"

        [replay]
          # Where recordings (.srpl, .brpl) are kept; empty: <data_dir>/replay. Kapacitor recordings copied
          # here are found by `tock list recordings` and can be replayed.
          dir = ""

        [stats]
          # Write the daemon's statistics (the numbers of /kapacitor/v1/debug/vars: kapacitor, ingress, task,
          # nodes, edges, write, udf, runtime) every stats-interval into its own stream, as points of
          # database.retention-policy, so that a task with dbrp "_kapacitor"."autogen" can watch Tock itself.
          enabled = true
          stats-interval = "10s"
          database = "_kapacitor"
          retention-policy = "autogen"
          # Kapacitor's execution-time sampling; read and checked (Tock times every node execution).
          timing-sample-rate = 0.1
          timing-movavg-size = 1000

        [load]
          # At start and on SIGHUP, define templates (dir/templates/*.tick), tasks (dir/tasks/*.tick, enabled;
          # type and dbrp from the script) and template tasks (dir/tasks/*.yaml|yml|json: template-id, vars,
          # dbrps) from files, id = file name. A task or template loaded before whose file is gone is deleted.
          # dir/handlers/* (topic handlers) are not built yet and are skipped with a warning.
          enabled = false
          dir = "/etc/kapacitor/load"

        [udf]
        [udf.functions]
          # One table per UDF, named as the TICKscript calls it (@movingAverage()):
          # [udf.functions.movingAverage]
          #   prog = "/usr/bin/python3"
          #   args = ["-u", "/path/to/moving_avg.py"]
          #   timeout = "10s"
          #   [udf.functions.movingAverage.env]
          #     PYTHONPATH = "/path/to/kapacitor/udf/agent/py"

        """ + sectionsDefaultText + HostsSettings.defaultText + influxDBDefaultText + alertingDefaultText
}

/// A configuration problem, naming the file or variable and the setting.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
