import TockModel

/// Prometheus' text exposition format, read as Telegraf's `prometheus` parser does by default (metric_version 1):
/// one measurement per metric family, labels as tags, and the value in a field named by the family's type —
/// `counter`, `gauge` or `value` (untyped); a summary's `sum`, `count` and one field per quantile (`0.5`); a
/// histogram's `sum`, `count` and one field per bucket bound (`0.1`, `+Inf`).
public enum PrometheusText {
    public static func parse(_ text: String, time: Timestamp) -> (points: [Point], errors: [String]) {
        var types: [String: String] = [:]
        var errors: [String] = []
        // Summaries and histograms gather several samples into one point per label set.
        var grouped: [GroupKey: [(String, FieldValue)]] = [:]
        var order: [GroupKey] = []
        var points: [Point] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingSpaces
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let words = Substring(line).words
                if words.count >= 4, words[1] == "TYPE" { types[String(words[2])] = String(words[3]) }
                continue
            }
            guard let sample = Sample(line) else {
                errors.append("line \(index + 1): not a Prometheus sample: \(line.prefix(80))")
                continue
            }
            // Line protocol holds no NaN or infinity: such samples (a summary with no observations yet) are left out.
            guard sample.value.isFinite else { continue }
            let (family, kind) = family(of: sample.name, types)
            var tags = sample.labels
            let sampleTime = sample.timestampMillis.map { $0 * 1_000_000 } ?? time
            switch kind {
            case "summary", "histogram":
                let field: String
                if sample.name == family + "_sum" { field = "sum" }
                else if sample.name == family + "_count" { field = "count" }
                else if kind == "summary", let q = tags.removeValue(forKey: "quantile") { field = q }
                else if kind == "histogram", let le = tags.removeValue(forKey: "le") { field = le }
                else { field = "value" }
                let key = GroupKey(name: family, tags: tags, time: sampleTime)
                if grouped[key] == nil { order.append(key) }
                grouped[key, default: []].append((field, .double(sample.value)))
            default:
                let field = kind == "counter" ? "counter" : kind == "gauge" ? "gauge" : "value"
                points.append(Point(name: sample.name, tags: Tags(tags), fields: Fields([(field, .double(sample.value))]), time: sampleTime))
            }
        }
        for key in order {
            points.append(Point(name: key.name, tags: Tags(key.tags), fields: Fields(grouped[key]!), time: key.time))
        }
        return (points, errors)
    }

    /// Every sample of `text` as it is written (no grouping into families), and the lines that are not samples.
    static func samples(_ text: String) -> (samples: [Sample], errors: [String]) {
        var samples: [Sample] = []
        var errors: [String] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let sample = Sample(line) else {
                errors.append("line \(index + 1): not a Prometheus sample: \(line.prefix(80))")
                continue
            }
            samples.append(sample)
        }
        return (samples, errors)
    }

    struct GroupKey: Hashable {
        var name: String
        var tags: [String: String]
        var time: Timestamp
    }

    /// The family a sample belongs to (`http_duration_seconds` for `http_duration_seconds_bucket`) and its type.
    static func family(of name: String, _ types: [String: String]) -> (String, String) {
        if let type = types[name] { return (name, type) }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if let type = types[base], type == "summary" || type == "histogram" { return (base, type) }
        }
        return (name, "untyped")
    }

    /// `name{label="value",…} value [timestamp]`.
    struct Sample {
        var name: String
        var labels: [String: String] = [:]
        var value: Double
        var timestampMillis: Int64?

        init?(_ line: String) {
            var rest = Substring(line)
            let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " || $0 == "\t" } ?? rest.endIndex
            name = String(rest[..<nameEnd])
            guard !name.isEmpty else { return nil }
            rest = rest[nameEnd...]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while true {
                    rest = rest.drop { $0 == " " || $0 == "," }
                    if rest.first == "}" { rest = rest.dropFirst(); break }
                    guard let eq = rest.firstIndex(of: "=") else { return nil }
                    let key = rest[..<eq].trimmingSpaces
                    rest = rest[rest.index(after: eq)...].drop { $0 == " " }
                    guard rest.first == "\"" else { return nil }
                    rest = rest.dropFirst()
                    var value = ""
                    var escaped = false
                    while let c = rest.first {
                        rest = rest.dropFirst()
                        if escaped {
                            value.append(c == "n" ? "\n" : c)
                            escaped = false
                        } else if c == "\\" {
                            escaped = true
                        } else if c == "\"" {
                            break
                        } else {
                            value.append(c)
                        }
                    }
                    labels[key] = value
                }
            }
            let words = rest.words
            guard let first = words.first else { return nil }
            switch first {
            case "+Inf": value = .infinity
            case "-Inf": value = -.infinity
            case "NaN": value = .nan
            default:
                guard let v = Double(first) else { return nil }
                value = v
            }
            if words.count > 1 { timestampMillis = Int64(words[1]) }
        }
    }
}
