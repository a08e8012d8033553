import TICKScript
import TockModel

extension BuildState {
    /// `time(length[, offset])` outside a lambda: a `query().groupBy()` time dimension (Kapacitor's global `time`
    /// function, `groupByTime` in `query.go`). Kept as the call with its durations evaluated, as a
    /// ``Value/lambda(_:)`` only ``QueryNode`` accepts (no lambda can hold a `time()` call).
    func timeDimension(_ arguments: [Expression], at position: SourcePosition) throws -> Value {
        guard (1...2).contains(arguments.count) else {
            throw ScriptError("time() function expects 1 or 2 args, got \(arguments.count)", at: position)
        }
        var literals: [Expression] = []
        for a in arguments {
            guard case .duration(let ns) = try value(a) else {
                throw ScriptError("time() takes durations: time(10s) or time(1h, 30m)", at: a.position)
            }
            try ValueBounds.check(.duration(ns), index: 0, of: "time", at: a.position)
            literals.append(Expression(.duration(nanoseconds: ns, literal: GoDuration.format(ns)), at: a.position))
        }
        return .lambda(Expression(.call(function: "time", arguments: literals), at: position))
    }
}
