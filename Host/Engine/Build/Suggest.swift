/// "Did you mean" suggestions by edit distance.
public enum Suggest {
    /// The candidate closest to `name` (Levenshtein distance, case-insensitive), if it is close enough to be a typo.
    public static func closest(to name: String, in candidates: [String]) -> String? {
        let target = Array(name.lowercased())
        var best: (String, Int)? = nil
        for c in candidates {
            let d = distance(target, Array(c.lowercased()))
            if d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        guard let (candidate, d) = best else { return nil }
        let limit = max(2, target.count / 3)
        return d <= limit ? candidate : nil
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
