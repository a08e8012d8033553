import TockModel

/// Chooses an alert level for one point from the `info`/`warn`/`crit` conditions and their resets,
/// exactly as Kapacitor's `determineLevel` does:
///
/// 1. from CRITICAL down to one above the current level, the first condition that holds wins;
/// 2. otherwise, when the current level has a reset condition and it does not hold, the level stays;
/// 3. otherwise, from the current level down to INFO, the first condition that holds wins;
/// 4. otherwise OK.
///
/// A condition that fails to evaluate counts as not holding and is reported through `onError`;
/// a reset that fails to evaluate counts as holding (Kapacitor logs it and goes on).
struct LevelSelector {
    typealias Condition = (Point) throws -> Bool

    /// Indexed by ``AlertLevel/rawValue``; index 0 (OK) is always `nil`.
    var conditions: [Condition?] = [nil, nil, nil, nil]
    var resets: [Condition?] = [nil, nil, nil, nil]

    init(info: Condition? = nil, warn: Condition? = nil, crit: Condition? = nil,
         infoReset: Condition? = nil, warnReset: Condition? = nil, critReset: Condition? = nil) {
        conditions = [nil, info, warn, crit]
        resets = [nil, infoReset, warnReset, critReset]
    }

    func level(for point: Point, current: AlertLevel,
               onError: (AlertLevel, _ reset: Bool, any Error) -> Void) -> AlertLevel {
        if let higher = firstMatch(from: .critical, downToAbove: current, point, onError) {
            return higher
        }
        if let reset = resets[current.rawValue] {
            do {
                if try !reset(point) { return current }
            } catch {
                onError(current, true, error)
            }
        }
        if current != .ok, let lower = firstMatch(from: current, downToAbove: .ok, point, onError) {
            return lower
        }
        return .ok
    }

    private func firstMatch(from start: AlertLevel, downToAbove stop: AlertLevel, _ point: Point,
                            _ onError: (AlertLevel, Bool, any Error) -> Void) -> AlertLevel? {
        var l = start.rawValue
        while l > stop.rawValue {
            if let condition = conditions[l] {
                do {
                    if try condition(point) { return AlertLevel(rawValue: l) }
                } catch {
                    onError(AlertLevel(rawValue: l)!, false, error)
                }
            }
            l -= 1
        }
        return nil
    }
}
