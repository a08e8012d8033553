import Engine
import Alerting
import Foundation
import Hummingbird
import TockModel

/// `/kapacitor/v1/service-tests`: each alert service's test, listed with its default options and run on demand
/// (Kapacitor's `services/servicetest/service.go`).
///
/// A test sends one event through the service's sender as currently configured (overrides included), in one
/// attempt bounded by `[alerting] timeout`, and answers `{"success": …, "message": …}` with status 200 either way.
struct ServiceTestAPI: Sendable {
    static let path = TaskAPI.base + "/service-tests"
    let master: TaskMaster
    let configuration: ServerConfiguration

    func register(on router: Router<BasicRequestContext>) {
        router.get(RouterPath(Self.path)) { request, _ in
            try list(pattern: request.uri.queryParameters.get("pattern") ?? "")
        }
        router.get(RouterPath(Self.path + "/:name")) { _, context in
            let (test, service) = try find(context.parameters.require("name"))
            return TockAPI.json(entry(test, service))
        }
        router.post(RouterPath(Self.path + "/:name")) { request, context in
            let (test, service) = try find(context.parameters.require("name"))
            let body = try await TockAPI.body(request)
            var given: [String: HandlerOption] = [:]
            if case .object(let members) = body {
                for (k, v) in members { if let o = ConfigJSON.option(v) { given[k] = o } }
            } else if body != .null {
                throw APIError(.badRequest, "failed to decode JSON body: the options must be a JSON object")
            }
            let options: [(String, HandlerOption)]
            do { options = try test.options(given, for: service) } catch {
                throw APIError(.badRequest, "failed to decode JSON body: \(error)")
            }
            let result = await test.run(service, options: options, timeout: delivery.timeout)
            return TockAPI.json(.object([("success", .bool(result.success)), ("message", .string(result.message))]))
        }
    }

    private var alerting: AlertingService? { master.alertService as? AlertingService }
    private var delivery: DeliverySettings { alerting?.delivery ?? configuration.alerting }

    /// The services Tock can test, with the running service of each.
    func available() throws -> [(ServiceTest, any AlertServiceKind)] {
        guard let services = alerting?.services else {
            throw APIError(.notImplemented, "service tests need the daemon's alert service, which is not running")
        }
        return ServiceTestCatalog.all.compactMap { test in services[test.kind].map { (test, $0) } }
    }

    func find(_ name: String) throws -> (ServiceTest, any AlertServiceKind) {
        guard !name.isEmpty else { throw APIError(.badRequest, "must provide service name") }
        guard let found = try available().first(where: { $0.0.name == name }) else {
            throw APIError(.notFound, "service \"\(name)\" not found")
        }
        return found
    }

    func entry(_ test: ServiceTest, _ service: any AlertServiceKind) -> JSON {
        .object([("link", ConfigAPI.link(Self.path + "/" + test.name)), ("name", .string(test.name)),
                 ("options", .object(test.defaultOptionValues(for: service).map { ($0.0, $0.1.map(ConfigJSON.json) ?? .null) }))])
    }

    func list(pattern: String) throws -> Response {
        let pattern = pattern.isEmpty ? "*" : pattern
        let services = try available().filter { fnmatch(pattern, $0.0.name, 0) == 0 }
        return TockAPI.json(.object([("link", ConfigAPI.link(Self.path)),
                                     ("services", .array(services.map { entry($0.0, $0.1) }))]))
    }
}

/// The config API and the service tests, registered on the daemon's router together.
struct ConfigRoutes: Sendable {
    let config: ConfigAPI
    let serviceTests: ServiceTestAPI

    init(master: TaskMaster, configuration: ServerConfiguration) {
        config = ConfigAPI(master: master, configuration: configuration)
        serviceTests = ServiceTestAPI(master: master, configuration: configuration)
    }

    func register(on router: Router<BasicRequestContext>) {
        config.register(on: router)
        serviceTests.register(on: router)
    }
}
