import Alerting
import Engine

/// The alert service of engine tests: the `Alerting` module's, with its defaults (the engine delivers nothing itself).
enum TestAlerting {
    static let service: any AlertService = {
        do { return try AlertingService() } catch { fatalError("the default alerting service cannot be built: \(error)") }
    }()
}
