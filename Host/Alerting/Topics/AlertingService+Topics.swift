import Engine
import TockModel

extension AlertingService {
    /// Defines (or replaces) a topic handler: checks the spec, its match expression and its kind's options as a
    /// script's handler is checked, and starts it. `replacing` names the handler it takes the place of (an update
    /// that renames it).
    /// - Throws: ``TopicHandlerError`` saying what is wrong; nothing changes then.
    public func defineTopicHandler(_ spec: TopicHandlerSpec, replacing old: String? = nil) throws(TopicHandlerError) {
        try spec.validate()
        let match = try spec.match.isEmpty ? nil : MatchExpression(spec.match)
        let action: TopicRouter.Action
        switch spec.kind {
        case "aggregate":
            action = .aggregate(try AggregateHandler(options: spec.options, defaultID: spec.id))
        case "publish":
            var r = OptionReader(spec.options, kind: "publish")
            do {
                guard let topics = try r.strings("topics"), !topics.isEmpty else {
                    throw TopicHandlerError("publish needs the topics to publish to (option topics)")
                }
                try r.finish()
                for t in topics { try TopicHandlerSpec(topic: t, id: "x", kind: "publish").validate() }
                action = .publish(topics)
            } catch let error as HandlerOptionError {
                throw TopicHandlerError(error.message)
            } catch let error as TopicHandlerError {
                throw error
            } catch {
                throw TopicHandlerError("\(error)")
            }
        default:
            let topic = spec.topic, id = spec.id
            // A topic handler's given-up events are dead letters like any handler's, named by the topic and handler.
            let origin = DeliveryOrigin(task: "", node: "topic-handler:" + id, topic: topic, kind: spec.kind, options: spec.options)
            action = .deliver(DeliveryQueue(sender: try topicSender(spec), settings: delivery, origin: origin,
                                            deadLetters: deadLetters,
                                            logger: topicRouter.logger.with("topic", topic).with("handler", id)))
        }
        topicRouter.install(TopicRouter.Entry(spec: spec, match: match, action: action), replacing: old)
    }

    /// Removes a topic handler; whether it existed. Its queue delivers what it holds, then ends.
    @discardableResult
    public func deleteTopicHandler(topic: String, id: String) -> Bool {
        topicRouter.uninstall(topic: topic, id: id)
    }

    /// The sender of a delivering topic handler, checked as ``check(_:)`` checks a script's handler.
    private func topicSender(_ spec: TopicHandlerSpec) throws(TopicHandlerError) -> any AlertSender {
        let handler = AlertHandlerSpec(kind: spec.kind, options: spec.options)
        do {
            if spec.kind == "exec", let program = spec.options["prog"]?.string, let refusal = execPolicy.refusal(of: program) {
                throw HandlerOptionError("exec: \(refusal)", option: "prog")
            }
            if let notifier = try PluginNotifierSender.make(handler, plugins: notifiers, topic: spec.topic) { return notifier }
            return try liveSender(kind: spec.kind, options: spec.options)
        } catch let error as HandlerOptionError {
            throw TopicHandlerError(error.message)
        } catch {
            throw TopicHandlerError("\(error)")
        }
    }
}
