import Foundation
import TockModel

/// A Kapacitor batch recording (`.brpl`): a zip archive with one entry per query of the recorded batch task
/// (named `0`, `1`, … by Kapacitor), each a sequence of JSON batches, one per line, as Kapacitor's
/// `WriteBatchForRecording` encodes them:
/// `{"name":"cpu","tmax":"…","group":"…","byname":false,"tags":{"host":"a"},"points":[{"fields":{…},"time":"…","tags":{…}}]}`.
///
/// Read as Kapacitor's replay reads it (`readBatchFromIO` in replay.go, `bufferedBatchMessage.UnmarshalJSON` in
/// edge/messages.go): a point without tags takes the batch's; a batch without points is skipped; field numbers
/// are floats (Go decodes JSON numbers into `interface{}` as float64); `tmax` is raised to the last point's time.
/// The batch is grouped by its tags (sorted), by name too when `byname` is set.
public struct BatchRecording: Sendable {
    public struct Entry: Sendable {
        /// The entry's name in the archive.
        public var name: String
        public var batches: [Batch]
    }

    /// In archive order: the i-th entry feeds the task's i-th batch query.
    public var entries: [Entry]

    /// Reads the recording at `path`.
    /// - Parameter rebase: when set, each entry's first point moves to this time and the rest with it (Kapacitor
    ///   shifts each recorded query by its own first point).
    public static func read(path: String, rebase: RebaseTime? = nil) throws(RecordingError) -> BatchRecording {
        let bytes: [UInt8]
        do {
            let url = URL(fileURLWithPath: path)
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            guard size <= ZipArchive.maxArchiveSize else {
                throw RecordingError(file: path, "the archive is \(size) bytes, more than the \(ZipArchive.maxArchiveSize) a batch recording may have")
            }
            bytes = [UInt8](try Data(contentsOf: url))
        } catch let error as RecordingError {
            throw error
        } catch {
            throw RecordingError(file: path, "cannot read: \(error.localizedDescription)")
        }
        do {
            let archive = try ZipArchive(bytes: bytes)
            var entries: [Entry] = []
            for e in archive.entries where !e.name.hasSuffix("/") {
                let text = try archive.contents(of: e)
                var batches = try decode(text, file: path, entry: e.name)
                if let rebase, let first = batches.first?.points.first?.time {
                    let shift = rebase.target &- first
                    for b in batches.indices {
                        for p in batches[b].points.indices { batches[b].points[p].time &+= shift }
                        batches[b].tmax &+= shift
                        batches[b].tmax = max(batches[b].tmax, batches[b].points.last!.time)
                    }
                }
                entries.append(Entry(name: e.name, batches: batches))
            }
            return BatchRecording(entries: entries)
        } catch let failure as ZipArchive.Failure {
            switch failure {
            case .malformed(let why): throw RecordingError(file: path, why)
            case .entry(let name, let why): throw RecordingError(file: path, entry: name, why)
            }
        } catch let error as RecordingError {
            throw error
        } catch {
            throw RecordingError(file: path, "\(error)")
        }
    }

    private struct BatchJSON: Decodable {
        var name: String?
        var tmax: String?
        var byname: Bool?
        var tags: [String: String]?
        var points: [PointJSON]?
    }

    private struct PointJSON: Decodable {
        var fields: [String: FieldJSON]?
        var time: String?
        var tags: [String: String]?
    }

    private struct FieldJSON: Decodable {
        var value: FieldValue?

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { value = nil }
            else if let b = try? c.decode(Bool.self) { value = .bool(b) }
            else if let d = try? c.decode(Double.self) { value = .double(d) }
            else if let s = try? c.decode(String.self) { value = .string(s) }
            else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "a field value must be a number, string or boolean")
            }
        }
    }

    /// The batches of one entry's JSON lines.
    static func decode(_ text: [UInt8], file: String, entry: String) throws(RecordingError) -> [Batch] {
        let decoder = JSONDecoder()
        var batches: [Batch] = []
        var lineNumber = 0
        for line in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            func fail(_ why: String) -> RecordingError { RecordingError(file: file, entry: entry, line: lineNumber, why) }
            let json: BatchJSON
            do {
                json = try decoder.decode(BatchJSON.self, from: Data(line))
            } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                    let DecodingError.dataCorrupted(context) {
                let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
                throw fail(path.isEmpty ? "not a JSON batch: \(context.debugDescription)"
                                        : "\(path.drop(while: { $0 == "." })): \(context.debugDescription)")
            } catch {
                throw fail("not a JSON batch: \(error)")
            }
            guard let points = json.points, !points.isEmpty else { continue }
            let tags = Tags(json.tags ?? [:])
            var batchPoints: [BatchPoint] = []
            batchPoints.reserveCapacity(points.count)
            for (i, p) in points.enumerated() {
                guard let timeText = p.time else { throw fail("points[\(i)] has no time") }
                guard let time = RFC3339Nano.parse(timeText) else {
                    throw fail("points[\(i)].time \"\(timeText)\" is not an RFC 3339 time")
                }
                var fields: [(String, FieldValue)] = []
                for (k, v) in p.fields ?? [:] { if let value = v.value { fields.append((k, value)) } }
                let pointTags = (p.tags?.isEmpty ?? true) ? tags : Tags(p.tags!)
                batchPoints.append(BatchPoint(time: time, fields: Fields(fields), tags: pointTags))
            }
            var tmax = batchPoints.last!.time
            if let text = json.tmax {
                guard let t = RFC3339Nano.parse(text) else { throw fail("tmax \"\(text)\" is not an RFC 3339 time") }
                tmax = max(t, tmax)
            }
            let name = json.name ?? ""
            let dimensions = Dimensions(byName: json.byname ?? false, tagNames: tags.sortedKeys)
            batches.append(Batch(name: name, group: GroupID(name: name, tags: tags, dimensions: dimensions), tags: tags,
                                 dimensions: dimensions, tmax: tmax, points: batchPoints))
        }
        return batches
    }
}
