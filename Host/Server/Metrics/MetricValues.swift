/// The values of `/metrics`, read back from its Prometheus text: what debug/vars and the `[stats]` service report.
struct MetricValues: Sendable {
    private(set) var values: [Series: Double] = [:]

    /// Reads the sample lines of Prometheus text exposition format (`name{label="value",…} 12`); comments and
    /// lines that are not samples are skipped.
    init(exposition: String) {
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            if let (series, value) = Self.sample(Substring(line)) { values[series] = value }
        }
    }

    /// The value of `name` with `labels`, as an integer; 0 for a series `/metrics` does not have.
    subscript(_ name: String, _ labels: (String, String)...) -> Int64 {
        value(name, labels)
    }

    /// The value of `name` with `labels`, as an integer; 0 for a series `/metrics` does not have.
    func value(_ name: String, _ labels: [(String, String)]) -> Int64 {
        guard let value = values[Series(name, labels)], value.isFinite else { return 0 }
        return Int64(value)
    }

    /// Every series of `name`.
    func series(_ name: String) -> [(series: Series, value: Int64)] {
        values.filter { $0.key.name == name }.map { ($0.key, Int64($0.value)) }
    }

    private static func sample(_ line: Substring) -> (Series, Double)? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        var rest = line[..<space]
        guard let brace = rest.firstIndex(of: "{") else { return (Series(String(rest)), value) }
        let name = String(rest[..<brace])
        rest = rest[rest.index(after: brace)...]
        var labels: [(String, String)] = []
        while let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" {
            let label = String(rest[..<equals])
            var text = ""
            var i = rest.index(equals, offsetBy: 2)
            while i < rest.endIndex, rest[i] != "\"" {
                if rest[i] == "\\", rest.index(after: i) < rest.endIndex {
                    i = rest.index(after: i)
                    text.append(rest[i] == "n" ? "\n" : rest[i])
                } else {
                    text.append(rest[i])
                }
                i = rest.index(after: i)
            }
            guard i < rest.endIndex else { return nil }
            labels.append((label, text))
            rest = rest[rest.index(after: i)...].drop { $0 == "," }
        }
        return (Series(name, labels), value)
    }
}
