import Engine
import PluginHost
import Synchronization
import TockModel

/// The alert service of `tock serve`, `tock run` and `tock test`: every registered alert service built from its
/// kapacitor.conf section, one ``DeliveryQueue`` per handler of every running alert node, and the topics' state.
public final class AlertingService: AlertService {
    /// The services, by topic-handler kind. ``replace(_:)`` swaps one while alerts run (the config API).
    public var services: [String: any AlertServiceKind] { current.withLock { $0 } }
    private let current: Mutex<[String: any AlertServiceKind]>
    /// How many times each kind's service was replaced: a handler's ``LiveSender`` rebuilds its sender when it changed.
    private let generations = Mutex<[String: Int]>([:])
    public let delivery: DeliverySettings
    /// The notifier plugins (`[notifiers.NAME]`), by name.
    public let notifiers: [String: NotifierPlugin]
    /// The programs `exec` handlers may start: the daemon's `[alert] exec-allowed`, so that a topic handler defined
    /// over the API cannot run what a script may not.
    public let execPolicy: ExecPolicy
    /// The last state of every event of every topic.
    public let topics = TopicStates()
    /// The silences in force: events they cover are recorded in their topics and delivered to no handler.
    public let silences = Silences()
    /// The topic handlers defined over the API, and the way events reach them.
    public let topicRouter: TopicRouter
    /// Where every handler's given-up events go (`DeadLetters/`).
    public let deadLetters: DeadLetterOffice
    let open = Mutex<[ObjectIdentifier: (task: String, node: String, queue: DeliveryQueue)]>([:])
    /// The `httpPost` node's client: the alert services' own (async-http-client, one per process).
    public var httpPoster: (any HTTPPoster)? { AsyncHTTPPoster() }

    /// What ``check(_:)`` says of a `hipchat` handler.
    public static let hipChatRetired = "HipChat was retired by Atlassian in 2019; Kapacitor's hipchat handler can no longer deliver — use slack, teams or discord"

    /// Builds every service of `kinds` from its section in `configuration` (keyed by section name, one table per
    /// element; a missing section gives the service's defaults). A section no service reads is refused.
    public init(configuration: [String: [ConfigTable]] = [:], delivery: DeliverySettings = DeliverySettings(),
                kinds: [any AlertServiceKind.Type] = AlertServiceRegistry.kinds,
                notifiers: [String: NotifierPlugin] = [:], execPolicy: ExecPolicy = .unrestricted,
                deadLetters: DeadLetterOffice? = nil) throws(ConfigError) {
        self.current = Mutex(try Self.build(configuration, kinds))
        self.deadLetters = deadLetters ?? DeadLetterOffice(limit: delivery.deadLetterMax)
        self.delivery = delivery
        self.notifiers = notifiers
        self.execPolicy = execPolicy
        self.topicRouter = TopicRouter(states: topics, silences: silences)
    }

    /// Puts `service` in place of the service of its kind, atomically: the next attempt of every handler of that kind,
    /// open or not, uses its configuration.
    public func replace(_ service: any AlertServiceKind) {
        let kind = type(of: service).kind
        current.withLock { $0[kind] = service }
        generations.withLock { $0[kind, default: 0] += 1 }
    }

    /// The sender of `options` on the service of `kind`, following that service when the config API replaces it.
    func liveSender(kind: String, options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        let generation = generations.withLock { $0[kind, default: 0] }
        let sender = try service(kind).makeSender(options: options)
        return LiveSender(kind: kind, options: options, sender: sender, generation: generation) { [weak self] kind in
            guard let self else { return (nil, 0) }
            return (self.current.withLock { $0[kind] }, self.generations.withLock { $0[kind, default: 0] })
        }
    }

    private static func build(_ configuration: [String: [ConfigTable]], _ kinds: [any AlertServiceKind.Type])
        throws(ConfigError) -> [String: any AlertServiceKind] {
        var services: [String: any AlertServiceKind] = [:]
        for kind in kinds {
            let section = kind.section.name
            services[kind.kind] = try kind.init(elements: section.isEmpty ? [] : configuration[section] ?? [])
        }
        let known = Set(kinds.map { $0.section.name })
        if let unknown = configuration.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigError("[\(unknown)] is not the section of any alert service Tock has")
        }
        return services
    }

    public func check(_ handler: AlertHandlerSpec) throws {
        if handler.kind == "exec", let program = handler.options["prog"]?.string, let refusal = execPolicy.refusal(of: program) {
            throw HandlerOptionError("alert .exec(): \(refusal)", option: "prog")
        }
        if try PluginNotifierSender.make(handler, plugins: notifiers, topic: "") != nil { return }
        _ = try service(handler.kind).makeSender(options: handler.options)
    }

    public var forcesStateChangesOnly: Bool {
        services.values.contains { !$0.globalHandlers.isEmpty && $0.globalStateChangesOnly }
    }

    public func open(_ node: AlertNodeContext, handlers: [AlertHandlerSpec]) throws -> any AlertSink {
        var senders: [(sender: any AlertSender, origin: DeliveryOrigin)] = []
        let topic = node.topic ?? node.anonymousTopic
        func origin(_ kind: String, _ options: [String: HandlerOption]) -> DeliveryOrigin {
            DeliveryOrigin(task: node.taskID, node: node.nodeID, topic: topic, kind: kind, options: options)
        }
        for handler in handlers {
            if let notifier = try PluginNotifierSender.make(handler, plugins: notifiers, topic: topic) {
                senders.append((notifier, origin(handler.kind, handler.options)))
            } else {
                let sender = try liveSender(kind: handler.kind, options: handler.options)
                senders.append((sender, origin(handler.kind, handler.options)))
            }
        }
        // Kapacitor adds a global service's handler to every alert that names no handler of that service.
        let named = Set(handlers.map(\.kind))
        let services = self.services
        for kind in services.keys.sorted() where !named.contains(kind) {
            for global in services[kind]!.globalHandlers {
                let sender = try services[kind]!.makeSender(options: global.options)
                senders.append((sender, origin(kind, global.options)))
            }
        }
        let queues = senders.map {
            DeliveryQueue(sender: $0.sender, settings: delivery, origin: $0.origin, deadLetters: deadLetters, logger: node.logger)
        }
        open.withLock { for q in queues { $0[ObjectIdentifier(q)] = (node.taskID, node.nodeID, q) } }
        // Kapacitor records a node's events in its anonymous topic only when the node has handlers of its own.
        var topicIDs: [String] = []
        if let topic = node.topic { topicIDs.append(topic) }
        if !queues.isEmpty {
            topicIDs.append(node.anonymousTopic)
            topics.open(node.anonymousTopic)
        }
        return AlertingSink(queues: queues, topics: topicIDs, anonymous: queues.isEmpty ? nil : node.anonymousTopic,
                            router: topicRouter, silences: silences) { [weak self] queue in
            _ = self?.open.withLock { $0.removeValue(forKey: ObjectIdentifier(queue)) }
        }
    }

    /// One handler's counters.
    public struct HandlerStats: Sendable, Hashable {
        public var task: String
        public var node: String
        /// The handler's description (`tcp 127.0.0.1:7777`).
        public var handler: String
        public var stats: DeliveryStats
    }

    /// The counters of every handler of every running alert node (and of queues still delivering after their node
    /// stopped), by task, node and handler.
    /// A topic handler's counters have the task `topic:<topic>` and the node `<handler ID>`.
    public var deliveryStats: [HandlerStats] {
        (open.withLock { Array($0.values) } + topicRouter.queues.map { (task: "topic:" + $0.topic, node: $0.id, queue: $0.queue) })
            .map { HandlerStats(task: $0.task, node: $0.node, handler: $0.queue.sender.description, stats: $0.queue.stats) }
            .sorted { ($0.task, $0.node, $0.handler) < ($1.task, $1.node, $1.handler) }
    }

    /// Stops every queue at once (the process is ending): waiting events become dead letters (reason `stopped`).
    public func shutdown() {
        for entry in open.withLock({ Array($0.values) }) { entry.queue.cancel() }
        topicRouter.shutdown()
        for plugin in notifiers.values { plugin.stop() }
    }

    /// The service of `kind`, or why there is none.
    func service(_ kind: String) throws(HandlerOptionError) -> any AlertServiceKind {
        if let service = services[kind] { return service }
        if kind == "hipchat" { throw HandlerOptionError(Self.hipChatRetired) }
        let built = services.keys.sorted()
        if let spec = HandlerCatalog.all.first(where: { $0.kind == kind }) {
            throw HandlerOptionError("alert .\(spec.method)() (handler kind \(kind)) is not built yet in Tock (built: \(built.joined(separator: ", ")))")
        }
        let candidates = built + HandlerCatalog.all.map(\.kind)
        let hint = Suggest.closest(to: kind, in: candidates).map { " (did you mean \($0)?)" } ?? ""
        throw HandlerOptionError("unknown alert handler kind \"\(kind)\"\(hint)")
    }
}

/// One alert node's handlers: a queue each, and the topics that record its events (and hand them to their topic
/// handlers).
private final class AlertingSink: AlertSink {
    let queues: [DeliveryQueue]
    let topics: [String]
    /// The node's anonymous topic, hidden when the node stops.
    let anonymous: String?
    let router: TopicRouter
    let silences: Silences
    let finished: @Sendable (DeliveryQueue) -> Void

    init(queues: [DeliveryQueue], topics: [String], anonymous: String?, router: TopicRouter, silences: Silences,
         finished: @escaping @Sendable (DeliveryQueue) -> Void) {
        self.queues = queues
        self.topics = topics
        self.anonymous = anonymous
        self.router = router
        self.silences = silences
        self.finished = finished
    }

    func collect(_ event: AlertEvent, inhibited: Bool) {
        for topic in topics { router.publish(event, to: topic, inhibited: inhibited) }
        guard !queues.isEmpty, !inhibited, silences.silencing(event, topics: topics) == nil else { return }
        for queue in queues { queue.collect(event) }
    }

    func drain(_ done: @escaping @Sendable () -> Void) {
        guard !queues.isEmpty else { return done() }
        let left = Countdown(queues.count)
        let one: @Sendable () -> Void = { if left.tick() { done() } }
        for queue in queues { queue.drain(one) }
    }

    func close() {
        if let anonymous { router.states.close(anonymous) }
        for queue in queues {
            queue.close()
            queue.whenFinished { [finished] in finished(queue) }
        }
    }
}

/// Counts down to zero from several threads.
private final class Countdown: Sendable {
    private let left: Mutex<Int>
    init(_ count: Int) { left = Mutex(count) }
    /// Whether this tick reached zero.
    func tick() -> Bool { left.withLock { n in n -= 1; return n == 0 } }
}
