import AsyncHTTPClient
import Engine
import Foundation
import NIOCore
import NIOPosix
import TockModel

/// The enabled `[[influxdb]]` sections as the engine's ``InfluxDBService``: queries, writes and `CREATE DATABASE`
/// sent to the named cluster (the default one when none is named).
///
/// Every cluster shares one HTTP client per process, so connections to InfluxDB are pooled and reused.
public final class InfluxDBClusters: InfluxDBService {
    public let clusters: [String: InfluxDBCluster]
    /// The enabled clusters in the order of the file.
    public let ordered: [InfluxDBCluster]
    public let defaultCluster: String?

    /// The process's HTTP client for InfluxDB: redirects not followed, answers not decompressed, connecting
    /// limited to ``InfluxDBConfiguration/defaultConnectTimeout`` (a section's `timeout` bounds the whole request).
    /// A refused connection fails the request at once (no retrying with backoff inside the client), so the next
    /// URL is tried and an InfluxDB that is down is reported as unreachable without delay.
    public static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(InfluxDBConfiguration.defaultConnectTimeout)),
            decompression: .disabled)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// Builds the clusters of the enabled sections; `nil` when none is enabled.
    /// Checks each section as Kapacitor does; two enabled sections with one name, or more than one `default`,
    /// are errors. With no `default = true`, the first enabled section is the default.
    public static func make(_ configurations: [InfluxDBConfiguration], client: HTTPClient = sharedHTTPClient)
        throws(InfluxDBClustersError) -> InfluxDBClusters? {
        let enabled = configurations.enumerated().filter { $0.element.enabled }
        guard !enabled.isEmpty else { return nil }
        var clusters: [String: InfluxDBCluster] = [:]
        var ordered: [InfluxDBCluster] = []
        var defaultName: String?
        for (i, configuration) in enabled {
            let origin = "[[influxdb]] #\(i + 1)\(configuration.name.isEmpty ? "" : " (\"\(configuration.name)\")")"
            do {
                try configuration.validate()
                let cluster = try InfluxDBCluster(configuration: configuration, client: client)
                guard clusters[configuration.name] == nil else {
                    throw InfluxDBClustersError("\(origin): name: another enabled [[influxdb]] section is named \"\(configuration.name)\"")
                }
                clusters[configuration.name] = cluster
                ordered.append(cluster)
            } catch let error as InfluxDBConfigurationError {
                throw InfluxDBClustersError("\(origin): \(error)")
            } catch let error as InfluxDBClustersError {
                throw error
            } catch {
                throw InfluxDBClustersError("\(origin): \(error)")
            }
            if configuration.isDefault {
                if let defaultName {
                    throw InfluxDBClustersError("\(origin): default: more than one default InfluxDB cluster (\"\(defaultName)\" and \"\(configuration.name)\")")
                }
                defaultName = configuration.name
            }
        }
        return InfluxDBClusters(clusters: clusters, ordered: ordered, defaultCluster: defaultName ?? ordered[0].name)
    }

    private init(clusters: [String: InfluxDBCluster], ordered: [InfluxDBCluster], defaultCluster: String) {
        self.clusters = clusters
        self.ordered = ordered
        self.defaultCluster = defaultCluster
    }

    public func hasCluster(_ name: String) -> Bool { clusters[name] != nil }

    /// The named cluster, the default one for `nil` or an empty name.
    public func cluster(_ name: String?) throws(InfluxDBError) -> InfluxDBCluster {
        let wanted = (name?.isEmpty ?? true) ? defaultCluster ?? "" : name!
        guard let cluster = clusters[wanted] else {
            throw InfluxDBError(.unknownCluster, "unknown InfluxDB cluster \"\(wanted)\" (configured: \(clusters.keys.sorted().joined(separator: ", ")))")
        }
        return cluster
    }

    public func query(_ query: InfluxQuery) async throws -> [QuerySeries] {
        try await cluster(query.cluster).query(query)
    }

    public func write(_ write: InfluxWrite) async throws {
        try await cluster(write.cluster).write(write)
    }

    public func createDatabase(cluster name: String?, database: String, retentionPolicy: String?) async throws {
        try await cluster(name).createDatabase(database, retentionPolicy: retentionPolicy)
    }
}

/// A set of `[[influxdb]]` sections that cannot be used together, or one that is not valid.
public struct InfluxDBClustersError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
