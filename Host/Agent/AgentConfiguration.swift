import Foundation
import TOMLKit
import TockModel

/// How `tock agent` ships what its collectors gather: where to (`/write` of a Tock daemon or of InfluxDB 1.x), as
/// whom, in which batches, and how much it may hold on disk while the server cannot be reached.
///
/// Read from the `[agent]` section of a configuration file (kebab-case keys, as the rest of Tock's configuration),
/// then overridden by `tock agent`'s flags:
///
/// ```toml
/// [agent]
///   urls = ["https://tock.example.net:9092"]
///   database = "telegraf"
///   token = "…"
///   location = "725"
///   buffer-dir = "/var/lib/tock/agent"
///   buffer-max-size = "256MB"
/// ```
public struct AgentConfiguration: Sendable, Hashable {
    /// The servers, tried in order: a batch goes to the first that takes it. `/write` is appended to a URL without
    /// a path.
    public var urls: [String] = []
    public var database = "telegraf"
    /// Empty: the server's default retention policy.
    public var retentionPolicy = ""
    /// Basic authentication (Tock's users, InfluxDB's users).
    public var username = ""
    public var password = ""
    /// Sent as `Authorization: Token …` (Tock accepts it as a bearer token, InfluxDB 1.8+ as `user:password`).
    public var token = ""
    /// PEM files: the CA that signed the server's certificate, and a client certificate with its key.
    public var sslCA = ""
    public var sslCert = ""
    public var sslKey = ""
    public var insecureSkipVerify = false
    /// Whether bodies are sent gzip-compressed (`Content-Encoding: gzip`); batches are kept compressed on disk too.
    public var gzip = true
    /// For one write request.
    public var timeout: Duration = .seconds(5)
    /// A batch is sealed when it holds this many points, or at the flush interval.
    public var batchSize = 5_000
    public var flushInterval: Duration = .seconds(10)
    /// Where sealed batches wait until a server takes them; they survive a restart of the agent.
    public var bufferDirectory = ""
    /// The most the buffer holds on disk; beyond it the oldest batches are dropped (and counted).
    public var bufferMaxBytes = 256 << 20
    /// Tagged `host` on every point (default: the machine's name).
    public var hostname = ""
    /// Tagged `location` on every point when set.
    public var location = ""
    /// Between two `tock_agent` heartbeat points.
    public var heartbeatInterval: Duration = .seconds(30)
    /// The longest wait between two attempts while no server takes writes.
    public var retryMaxInterval: Duration = .seconds(60)

    public init() {}

    /// The keys of the `[agent]` section.
    public static let keys: Set<String> = [
        "url", "urls", "database", "retention-policy", "username", "password", "token", "ssl-ca", "ssl-cert", "ssl-key",
        "insecure-skip-verify", "gzip", "timeout", "batch-size", "flush-interval", "buffer-dir", "buffer-max-size",
        "hostname", "location", "heartbeat-interval", "retry-max-interval",
    ]

    /// Checks what a section or flags cannot check one key at a time.
    public func validated() throws(AgentConfigurationError) -> AgentConfiguration {
        guard !urls.isEmpty else {
            throw AgentConfigurationError("no server to ship to: give --url URL or urls in the [agent] section")
        }
        for url in urls {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw AgentConfigurationError("url \"\(url)\" must start with http:// or https://")
            }
        }
        guard batchSize > 0 else { throw AgentConfigurationError("batch-size must be at least 1") }
        guard flushInterval > .zero else { throw AgentConfigurationError("flush-interval must be positive") }
        guard heartbeatInterval > .zero else { throw AgentConfigurationError("heartbeat-interval must be positive") }
        guard bufferMaxBytes >= 4096 else { throw AgentConfigurationError("buffer-max-size must be at least 4KB") }
        guard sslCert.isEmpty == sslKey.isEmpty else {
            throw AgentConfigurationError("ssl-cert and ssl-key go together")
        }
        return self
    }
}

/// A configuration the agent cannot run with, saying which key and, when it comes from a file, where.
public struct AgentConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension AgentConfiguration {
    /// The `[agent]` section of `text` (a TOML document) over the defaults; a document without one gives the
    /// defaults. An unknown key or a value of the wrong type is refused with the file and line.
    public static func parse(_ text: String, file: String) throws(AgentConfigurationError) -> AgentConfiguration {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw AgentConfigurationError("\(file):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        } catch {
            throw AgentConfigurationError("\(file): \(error)")
        }
        var configuration = AgentConfiguration()
        guard let value = table["agent"] else { return configuration }
        guard let section = value.table else { throw AgentConfigurationError("\(file): agent must be a section ([agent])") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let header = lines.firstIndex { $0.trimmingPrefix(while: \.isWhitespace).hasPrefix("[agent]") } ?? 0
        func at(_ key: String) -> String {
            let line = lines[header...].firstIndex { line in
                let trimmed = line.trimmingPrefix(while: \.isWhitespace)
                return trimmed.hasPrefix(key) && trimmed.dropFirst(key.count).trimmingPrefix(while: \.isWhitespace).hasPrefix("=")
            } ?? header
            return "\(file):\(line + 1): [agent] \(key)"
        }
        for key in section.keys.sorted() {
            let value = section[key]!
            func string() throws(AgentConfigurationError) -> String {
                guard let s = value.string else { throw AgentConfigurationError("\(at(key)) must be a string") }
                return s
            }
            func bool() throws(AgentConfigurationError) -> Bool {
                guard let b = value.bool else { throw AgentConfigurationError("\(at(key)) must be true or false") }
                return b
            }
            func duration() throws(AgentConfigurationError) -> Duration {
                let text = try string()
                guard let ns = GoDuration.parse(text), ns > 0 else {
                    throw AgentConfigurationError("\(at(key)) \"\(text)\" is not a duration such as 10s")
                }
                return .nanoseconds(ns)
            }
            switch key {
            case "url": configuration.urls = [try string()]
            case "urls":
                guard let array = value.array, array.allSatisfy({ $0.string != nil }) else {
                    throw AgentConfigurationError("\(at(key)) must be a list of URLs")
                }
                configuration.urls = array.compactMap(\.string)
            case "database": configuration.database = try string()
            case "retention-policy": configuration.retentionPolicy = try string()
            case "username": configuration.username = try string()
            case "password": configuration.password = try string()
            case "token": configuration.token = try string()
            case "ssl-ca": configuration.sslCA = try string()
            case "ssl-cert": configuration.sslCert = try string()
            case "ssl-key": configuration.sslKey = try string()
            case "insecure-skip-verify": configuration.insecureSkipVerify = try bool()
            case "gzip": configuration.gzip = try bool()
            case "timeout": configuration.timeout = try duration()
            case "flush-interval": configuration.flushInterval = try duration()
            case "heartbeat-interval": configuration.heartbeatInterval = try duration()
            case "retry-max-interval": configuration.retryMaxInterval = try duration()
            case "batch-size":
                guard let n = value.int, n > 0 else { throw AgentConfigurationError("\(at(key)) must be a positive integer") }
                configuration.batchSize = n
            case "buffer-dir": configuration.bufferDirectory = try string()
            case "buffer-max-size":
                if let n = value.int {
                    configuration.bufferMaxBytes = n
                } else if let text = value.string, let n = ByteSize.parse(text) {
                    configuration.bufferMaxBytes = n
                } else {
                    throw AgentConfigurationError("\(at(key)) must be a size such as 256MB or a number of bytes")
                }
            case "hostname": configuration.hostname = try string()
            case "location": configuration.location = try string()
            default:
                throw AgentConfigurationError("\(at(key)): unknown key (known: \(keys.sorted().joined(separator: ", ")))")
            }
        }
        return configuration
    }
}

/// Sizes as people write them: `256MB`, `1GiB`, `4096`.
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber }
        guard let number = Int(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).uppercased()
        let multiplier: Int? = switch unit {
        case "", "B": 1
        case "K", "KB", "KIB": 1 << 10
        case "M", "MB", "MIB": 1 << 20
        case "G", "GB", "GIB": 1 << 30
        default: nil
        }
        guard let multiplier else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
