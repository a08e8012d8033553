import TockModel

/// Computes group IDs without building the `k=v` string for every point: first by the identity of the point's
/// ``SeriesKey`` and of the dimensions' tag-name array (the points of a series share one interned series; a node's
/// dimensions are one array), then by tag value for the common one-tag grouping (a bounded table), otherwise reusing
/// the last ID while consecutive points agree. The groups it makes are interned (``SeriesInterner``), so every point
/// of a group carries the same group storage, recognized downstream by identity and never reference-counted.
struct GroupKeyCache {
    /// A two-way set-associative table by series identity, in parallel arrays (a lookup compares plain integers and
    /// copies nothing but the group). An entry keeps its series and dimensions alive, so the identities stay theirs.
    private static let slotBits = 12
    private var seenSeries: [UInt] = []
    private var seenDimensionTokens: [UInt] = []
    private var kept: [(series: SeriesKey, dimensions: Dimensions)?] = []
    private var seenGroups: [GroupID] = []
    private var byValue: [String: GroupID] = [:]
    private var byValueDimensions = Dimensions.none
    private var lastName = ""
    private var lastValues: [String?] = []
    private var lastDimensions = Dimensions.none
    private var lastGroup = GroupID.none

    /// Equal for two dimensions values that share their tag-name array and `byName` (while one of them is alive); equal
    /// dimensions in other arrays (`groupBy(*)` makes one per point) are compared by value.
    @inline(__always)
    private static func token(_ dimensions: Dimensions) -> UInt {
        let address = dimensions.tagNames.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        return address ^ (dimensions.byName ? 1 : 0)
    }

    /// The group of a point of `series` under `dimensions`.
    mutating func group(series: SeriesKey, dimensions: Dimensions) -> GroupID {
        let identity = series.identity
        let token = Self.token(dimensions)
        let slot = identitySlot(identity, bits: Self.slotBits)
        if seenSeries.isEmpty {
            // Identity 0 is no live series': empty slots never match.
            let n = 1 << Self.slotBits
            seenSeries = Array(repeating: 0, count: n)
            seenDimensionTokens = Array(repeating: 0, count: n)
            kept = Array(repeating: nil, count: n)
            seenGroups = Array(repeating: .none, count: n)
        }
        let other = slot ^ 1
        if seenSeries[slot] == identity && (seenDimensionTokens[slot] == token || kept[slot]?.dimensions == dimensions) {
            return seenGroups[slot]
        }
        if seenSeries[other] == identity && (seenDimensionTokens[other] == token || kept[other]?.dimensions == dimensions) {
            return seenGroups[other]
        }
        let g = computeGroup(name: series.name, tags: series.tags, dimensions: dimensions)
        // The newest entry in the home slot, the one it displaces in the other.
        seenSeries[other] = seenSeries[slot]
        seenDimensionTokens[other] = seenDimensionTokens[slot]
        kept.swapAt(slot, other)
        seenGroups.swapAt(slot, other)
        seenSeries[slot] = identity
        seenDimensionTokens[slot] = token
        kept[slot] = (series, dimensions)
        seenGroups[slot] = g
        return g
    }

    /// An interned group, made at most once per value of a one-tag grouping.
    private mutating func computeGroup(name: String, tags: Tags, dimensions: Dimensions) -> GroupID {
        if !dimensions.byName && dimensions.tagNames.count == 1 {
            if dimensions != byValueDimensions {
                byValue.removeAll()
                byValueDimensions = dimensions
            }
            let value = tags[dimensions.tagNames[0]] ?? ""
            if let g = byValue[value] { return g }
            let g = SeriesInterner.shared.intern(GroupID(name: name, tags: tags, dimensions: dimensions))
            if byValue.count >= 100_000 { byValue.removeAll() }
            byValue[value] = g
            return g
        }
        if dimensions == lastDimensions, !dimensions.byName || name == lastName, lastValues.count == dimensions.tagNames.count {
            var same = true
            for (i, k) in dimensions.tagNames.enumerated() where tags[k] != lastValues[i] {
                same = false
                break
            }
            if same { return lastGroup }
        }
        lastName = name
        lastDimensions = dimensions
        lastValues = dimensions.tagNames.map { tags[$0] }
        lastGroup = SeriesInterner.shared.intern(GroupID(name: name, tags: tags, dimensions: dimensions))
        return lastGroup
    }
}

/// The slot of a heap address in a table of `1 << bits` slots (Fibonacci hashing: the product's top bits).
@inline(__always)
func identitySlot(_ identity: UInt, bits: Int) -> Int {
    Int(truncatingIfNeeded: (UInt64(identity) &* 0x9E37_79B9_7F4A_7C15) &>> UInt64(64 - bits))
}

/// A node's state per group (a dictionary), looked up first by the identity of the group's storage in a two-way
/// set-associative table: the points of a group carry one interned group storage, so a lookup per point compares an
/// integer instead of hashing the group. Reads as a dictionary: `table[group]`, `table[group] = nil`.
struct GroupTable<Value: AnyObject> {
    private var values: [GroupID: Value] = [:]
    /// Slots: at least four per group, up to 2^16.
    private var slotBits = 0
    /// The storage identity of the group in each slot (0: empty), its group (kept alive, so the identity stays its
    /// own) and value.
    private var slotIdentities: [UInt] = []
    private var slotGroups: [GroupID] = []
    private var slotValues: [Value?] = []

    var count: Int { values.count }

    subscript(group: GroupID) -> Value? {
        get { values[group] }
        set {
            let replaced = newValue.map { values.updateValue($0, forKey: group) } ?? values.removeValue(forKey: group)
            // A slot may hold the old value under an equal group of another storage: forget them all (rare).
            if replaced != nil { resetSlots(bits: slotBits) }
        }
    }

    /// The value of `group`, remembered in a slot for the next point of the group.
    @inline(__always)
    mutating func find(_ group: GroupID) -> Value? {
        let identity = group.storageIdentity
        if slotBits > 0 {
            let slot = identitySlot(identity, bits: slotBits)
            if slotIdentities[slot] == identity { return slotValues[slot] }
            if slotIdentities[slot ^ 1] == identity { return slotValues[slot ^ 1] }
        }
        guard let value = values[group] else { return nil }
        if values.count * 4 > 1 << slotBits && slotBits < 16 {
            var bits = Swift.max(slotBits, 6)
            while values.count * 4 > 1 << bits && bits < 16 { bits += 1 }
            resetSlots(bits: bits)
        }
        let slot = identitySlot(identity, bits: slotBits), other = slot ^ 1
        slotIdentities[other] = slotIdentities[slot]
        slotGroups.swapAt(slot, other)
        slotValues.swapAt(slot, other)
        slotIdentities[slot] = identity
        slotGroups[slot] = group
        slotValues[slot] = value
        return value
    }

    private mutating func resetSlots(bits: Int) {
        slotBits = bits
        guard bits > 0 else { return }
        slotIdentities = Array(repeating: 0, count: 1 << bits)
        slotGroups = Array(repeating: .none, count: 1 << bits)
        slotValues = Array(repeating: nil, count: 1 << bits)
    }
}
