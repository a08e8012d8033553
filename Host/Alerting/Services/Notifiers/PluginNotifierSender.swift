import Engine
import PluginHost
import TockModel

/// A handler that delivers through a notifier plugin (`[notifiers.NAME]`): a script's `.notify('pager')` with its
/// `.option(k, v)`s, or a topic handler of kind `notify` (options `notifier` and `options`) or of the notifier's own
/// name. The plugin's handshake checks the options; each attempt is one `Notify` request.
struct PluginNotifierSender: AlertSender {
    let plugin: NotifierPlugin
    let options: [String: HandlerOption]
    let topic: String

    var description: String { "notifier \(plugin.configuration.name)" }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        switch await plugin.notify(event, options: options, attempt: 1, topic: topic) {
        case .delivered: return
        case .retryable(let reason, let after):
            throw .retryable("notifier \(plugin.configuration.name): \(reason)", after: after.map { .nanoseconds($0) })
        case .permanent(let reason):
            throw .permanent("notifier \(plugin.configuration.name): \(reason)")
        }
    }

    /// The plugin and its options a handler names, checked against the plugin's handshake.
    static func make(_ handler: AlertHandlerSpec, plugins: [String: NotifierPlugin], topic: String) throws -> PluginNotifierSender? {
        let name: String
        var options: [String: HandlerOption]
        if handler.kind == "notify" {
            guard let n = handler.options["notifier"]?.string else {
                throw HandlerOptionError("notify needs the notifier's name: .notify('NAME')", option: "notifier")
            }
            name = n
            if case .object(let o)? = handler.options["options"] { options = o } else { options = [:] }
        } else if plugins[handler.kind] != nil {
            name = handler.kind
            options = handler.options
        } else {
            return nil
        }
        guard let plugin = plugins[name] else {
            let known = plugins.keys.sorted()
            throw HandlerOptionError("no notifier \"\(name)\" is configured ([notifiers.\(name)] in the configuration; configured: "
                + "\(known.isEmpty ? "none" : known.joined(separator: ", ")))", option: "notifier")
        }
        do {
            try plugin.check(options: options)
        } catch let error as HandlerOptionError {
            // Point at the `.option()` calls when an option is at fault.
            throw HandlerOptionError(error.message, option: error.option == nil ? nil : "options")
        }
        return PluginNotifierSender(plugin: plugin, options: options, topic: topic)
    }
}
