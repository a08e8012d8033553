import TockModel

/// The `alert` node: gives each point or batch a level, keeps one alert state per group, sends events
/// to its handlers and publishes them, and passes the alerting data on, augmented, to its children.
final class AlertNode: CountingNode {
    private let options: AlertOptions
    private let service: any AlertService
    /// Open while the task runs.
    private var sink: (any AlertSink)?
    private var states: [GroupID: AlertState] = [:]
    /// The level of the last event per alert ID: the `previousLevel` of the next one.
    private var lastLevels: [String: AlertLevel] = [:]
    /// Per group, the ID when the ID template reads only the name and group (the default).
    private var idCache: [GroupID: (name: String, id: String)] = [:]
    /// Per group, the inhibitors this alert's `.inhibit()` registered.
    private var inhibitors: [GroupID: [InhibitorLookup.Inhibitor]] = [:]

    /// Whether the node has stopped (no sink opens again).
    private var stopped = false

    /// Events sent, in all and per level, and those an inhibitor held back (Kapacitor's alert statistics).
    /// Indexed by ``AlertLevel/rawValue``.
    private var triggered = [Int64](repeating: 0, count: AlertLevel.allCases.count)
    private var inhibitedCount: Int64 = 0

    var counters: [String: Int64] {
        [
            "alerts_triggered": triggered.reduce(0, +), "alerts_inhibited": inhibitedCount,
            "oks_triggered": triggered[AlertLevel.ok.rawValue], "infos_triggered": triggered[AlertLevel.info.rawValue],
            "warns_triggered": triggered[AlertLevel.warning.rawValue], "crits_triggered": triggered[AlertLevel.critical.rawValue],
        ]
    }

    init(options: AlertOptions, service: any AlertService = NoAlertService()) {
        self.options = options
        self.service = service
    }

    func start(output: any NodeOutput) throws {
        _ = try openSink(output: output)
    }

    /// The sink, opened at start (or at the first event when the node is driven without a start).
    private func openSink(output: any NodeOutput) throws -> (any AlertSink)? {
        if let sink { return sink }
        guard !stopped else { return nil }
        let opened = try service.open(
            AlertNodeContext(taskID: output.taskID, nodeID: output.nodeID, topic: options.topic, logger: output.logger),
            handlers: options.handlers)
        sink = opened
        return opened
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(let p): try receive(point: p, output: output)
        case .batch(let b): try receive(batch: b, output: output)
        }
    }

    func stop(output: any NodeOutput) -> StopResult {
        for list in inhibitors.values {
            for inhibitor in list { options.inhibitorLookup.remove(inhibitor) }
        }
        inhibitors = [:]
        stopped = true
        guard let sink else { return .done }
        self.sink = nil
        sink.drain {
            sink.close()
            output.finish()
        }
        return .pending
    }

    /// A group's first state: OK, or the level the alert had when an earlier run of the task ended.
    private func newState(id: String, output: any NodeOutput) -> AlertState {
        var state = AlertState(historySize: options.history, flapping: options.flapping, maxInterval: options.maxInterval)
        if let saved = output.alertStates?.lastLevel(taskID: output.taskID, nodeID: output.nodeID, alertID: id),
           saved.level != .ok {
            state.restore(level: saved.level, at: saved.time)
            lastLevels[id] = saved.level
        }
        return state
    }

    /// Marks the group's inhibitors active while its level is not OK (creating them for a new group
    /// from its tags on the `.inhibit()` tag names).
    private func updateInhibitors(_ group: GroupID, tags: Tags, level: AlertLevel) {
        guard !options.inhibits.isEmpty else { return }
        if inhibitors[group] == nil {
            let list = options.inhibits.map { InhibitorLookup.Inhibitor(category: $0.category, tags: tags.filtered(to: $0.equalTags)) }
            for inhibitor in list { options.inhibitorLookup.add(inhibitor) }
            inhibitors[group] = list
        }
        for inhibitor in inhibitors[group]! { inhibitor.set(level != .ok) }
    }

    private func level(of point: Point, current: AlertLevel, output: any NodeOutput) -> AlertLevel {
        options.selector.level(for: point, current: current) { level, isReset, error in
            output.logger.error("error evaluating \(isReset ? "reset " : "")expression for level \(level): \(error)")
        }
    }

    // MARK: Stream

    private func receive(point p: Point, output: any NodeOutput) throws {
        let id = try renderID(name: p.name, group: p.group, tags: p.tags, output: output)
        var state = states[p.group] ?? newState(id: id, output: output)
        defer { states[p.group] = state }
        let l = level(of: p, current: state.currentLevel, output: output)
        state.add(level: l, at: p.time)
        updateInhibitors(p.group, tags: p.tags, level: l)
        if (options.flapping != nil && state.flapping) || (options.stateChangesOnly && !state.changed && !state.expired) {
            return
        }
        guard l != .ok || state.changed else { return }
        state.triggered(at: p.time)
        if options.noRecoveries && l == .ok { return }
        let event = try makeEvent(
            id: id, name: p.name, group: p.group, tags: p.tags, fields: p.fields, level: l,
            time: p.time, duration: state.duration, data: .point(p), output: output)
        try send(event, tags: p.tags, output: output)
        var augmented = p
        augment(tags: &augmented.tags, event)
        augment(fields: &augmented.fields, event)
        output.emit(.point(augmented))
    }

    // MARK: Batch

    private func receive(batch b: Batch, output: any NodeOutput) throws {
        let id = try renderID(name: b.name, group: b.group, tags: b.tags, output: output)
        guard !b.points.isEmpty else { return }
        var state = states[b.group] ?? newState(id: id, output: output)
        defer { states[b.group] = state }
        let current = state.currentLevel
        var lowest = AlertLevel.critical
        var highest = AlertLevel.ok
        var highestPoint: BatchPoint? = nil
        for bp in b.points {
            let point = Point(name: b.name, tags: bp.tags, fields: bp.fields, time: bp.time,
                              group: b.group, dimensions: b.dimensions)
            let l = level(of: point, current: current, output: output)
            if l < lowest { lowest = l }
            if l > highest || highestPoint == nil {
                highest = l
                highestPoint = bp
            }
        }
        let l = options.all ? lowest : highest
        let t = options.all || l == .ok ? b.tmax : highestPoint!.time
        state.add(level: l, at: t)
        updateInhibitors(b.group, tags: b.tags, level: l)
        let suppressed = (options.flapping != nil && state.flapping) || (options.stateChangesOnly && !state.changed && !state.expired)
        guard (state.changed && l == .ok) || (l != .ok && !suppressed) else { return }
        state.triggered(at: t)
        if options.noRecoveries && l == .ok { return }
        let event = try makeEvent(
            id: id, name: b.name, group: b.group, tags: b.tags, fields: highestPoint!.fields, level: l,
            time: t, duration: state.duration, data: .batch(b), output: output)
        try send(event, tags: b.tags, output: output)
        var augmented = b
        augment(tags: &augmented.tags, event)
        for i in augmented.points.indices {
            augment(tags: &augmented.points[i].tags, event)
            augment(fields: &augmented.points[i].fields, event)
        }
        output.emit(.batch(augmented))
    }

    // MARK: Events

    /// Publishes the event and hands it to the handlers, unless an active inhibitor covers the alert's
    /// category and tags (then only the publication, Kapacitor's topic state, sees it).
    private func send(_ event: AlertEvent, tags: Tags, output: any NodeOutput) throws {
        output.publish(.alert(json: event.json))
        let inhibited = options.category.map { options.inhibitorLookup.isInhibited(category: $0, tags: tags) } ?? false
        triggered[event.level.rawValue] += 1
        if inhibited { inhibitedCount += 1 }
        try openSink(output: output)?.collect(event, inhibited: inhibited)
    }

    private func augment(tags: inout Tags, _ event: AlertEvent) {
        if let k = options.levelTag { tags[k] = event.level.description }
        if let k = options.idTag { tags[k] = event.id }
    }

    private func augment(fields: inout Fields, _ event: AlertEvent) {
        if let k = options.levelField { fields[k] = .string(event.level.description) }
        if let k = options.messageField { fields[k] = .string(event.message) }
        if let k = options.idField { fields[k] = .string(event.id) }
        if let k = options.durationField { fields[k] = .int(event.duration) }
    }

    private func renderID(name: String, group: GroupID, tags: Tags, output: any NodeOutput) throws -> String {
        if options.idTemplate.dependsOnlyOnNameAndGroup {
            if let cached = idCache[group], cached.name == name { return cached.id }
            let id = try options.idTemplate.render(.record(typeName: "kapacitor.idInfo", idFields(name: name, group: group, tags: tags, output: output)))
            idCache[group] = (name, id)
            return id
        }
        return try options.idTemplate.render(.record(typeName: "kapacitor.idInfo", idFields(name: name, group: group, tags: tags, output: output)))
    }

    private func idFields(name: String, group: GroupID, tags: Tags, output: any NodeOutput) -> [(name: String, value: TemplateValue)] {
        [
            ("Name", .string(name)),
            ("TaskName", .string(output.taskID)),
            ("Group", .string(group.rawValue.isEmpty ? "nil" : group.rawValue)),
            ("Tags", .stringMap(tags.map { ($0.key, $0.value) })),
            ("ServerInfo", .record(typeName: "kapacitor.serverInfo", [
                ("Hostname", .string(options.hostname)), ("ClusterID", .string("")), ("ServerID", .string("")),
            ])),
        ]
    }

    private func makeEvent(
        id: String, name: String, group: GroupID, tags: Tags, fields: Fields, level: AlertLevel,
        time: Timestamp, duration: Int64, data: Message, output: any NodeOutput
    ) throws -> AlertEvent {
        var info = idFields(name: name, group: group, tags: tags, output: output)
        info += [
            ("ID", .string(id)),
            ("Fields", .anyMap(fields.map { ($0.key, TemplateValue($0.value)) })),
            ("Level", .string(level.description)),
            ("Time", .time(time)),
            ("Duration", .duration(duration)),
        ]
        let message = try options.messageTemplate.render(.record(typeName: "kapacitor.messageInfo", info))
        info.append(("Message", .string(message)))
        let details = try options.detailsTemplate.render(.record(typeName: "kapacitor.detailsInfo", info))
        let previous = lastLevels[id] ?? .ok
        lastLevels[id] = level
        if previous != level {
            output.alertStates?.save(taskID: output.taskID, nodeID: output.nodeID, alertID: id, level: level, time: time)
        }
        return AlertEvent(
            id: id, message: message, details: details, time: time, duration: duration, level: level,
            previousLevel: previous, recoverable: !options.noRecoveries, data: data,
            taskName: output.taskID, name: name, group: group, tags: tags, fields: fields, category: options.category)
    }
}
