import TockModel

/// `|kapacitorLoopback()`: writes each point back into the engine's own ingress (``PointIngress``), with
/// `.database()` and `.retentionPolicy()` (both required), and `.measurement()` and `.tag(k, v)` when set; as
/// Kapacitor's `kapacitor_loopback.go`. A batch's points become points of the batch's name with their own tags
/// (plus `.tag()`s), ungrouped. Nothing follows the node. A loopback into a database and retention policy the task
/// itself reads is refused when the task is defined ("loop detected on dbrp").
final class LoopbackNode: CountingNode {
    let database: String
    let retentionPolicy: String
    let measurement: String?
    let tags: [(String, String)]
    let ingress: any PointIngress
    /// Points handed to the ingress (Kapacitor's `points_written`).
    private(set) var pointsWritten = 0
    var counters: [String: Int64] { ["points_written": Int64(pointsWritten)] }

    init(_ c: NodeConfiguration, ingress: (any PointIngress)?) throws {
        guard let db = c.string("database"), !db.isEmpty else { throw NodeConfigurationError("must specify a database") }
        guard let rp = c.string("retentionPolicy"), !rp.isEmpty else {
            throw NodeConfigurationError("must specify a retention policy")
        }
        database = db
        retentionPolicy = rp
        measurement = c.string("measurement").flatMap { $0.isEmpty ? nil : $0 }
        var tags: [(String, String)] = []
        for call in c.calls("tag") {
            guard case .string(let k) = call[0], case .string(let v) = call[1] else { continue }
            tags.removeAll { $0.0 == k }
            tags.append((k, v))
        }
        self.tags = tags
        guard let ingress else {
            throw NodeConfigurationError("kapacitorLoopback needs the engine's ingress, which this runner does not provide")
        }
        for d in ingress.taskDBRPs where d.database == db && d.retentionPolicy == rp {
            throw NodeConfigurationError("loop detected on dbrp: \"\(db)\".\"\(rp)\"")
        }
        if ingress.readsEveryDatabase {
            throw NodeConfigurationError(
                "loop detected on dbrp: \"\(db)\".\"\(rp)\": the task reads every database (it has no dbrp), so its loopback would reach itself; give it a dbrp")
        }
        self.ingress = ingress
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        var out: [Point] = []
        switch message {
        case .point(var p):
            p.database = database
            p.retentionPolicy = retentionPolicy
            if let measurement { p.name = measurement }
            for (k, v) in tags { p.tags[k] = v }
            p.group = .none
            p.dimensions = .none
            out.append(p)
        case .batch(let b):
            out.reserveCapacity(b.points.count)
            for bp in b.points {
                var t = bp.tags
                for (k, v) in tags { t[k] = v }
                out.append(Point(name: b.name, tags: t, fields: bp.fields, time: bp.time,
                                 database: database, retentionPolicy: retentionPolicy))
            }
        }
        do {
            try ingress.write(out)
            pointsWritten += out.count
        } catch {
            throw LoopbackWriteError(message: "failed to write point over loopback: \(error)")
        }
    }
}

/// A loopback write the ingress refused; counted as an error on the node.
struct LoopbackWriteError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
