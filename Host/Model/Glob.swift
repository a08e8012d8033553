/// Kapacitor's topic patterns (Go's `path.Match` without classes): `*` any run, `?` one character.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Why `pattern` is not one Tock can match (Go's `path.ErrBadPattern`, and the character classes Tock lacks), or `nil`.
    public static func problem(_ pattern: String) -> String? {
        if pattern.contains("[") || pattern.contains("]") {
            return "syntax error in pattern (character classes such as [a-z] are not supported)"
        }
        if pattern.hasSuffix("\\") { return "syntax error in pattern" }
        return nil
    }
}
