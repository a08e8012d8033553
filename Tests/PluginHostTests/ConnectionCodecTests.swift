import PluginHost
import Testing
import TockModel
import UDFProtocol

/// A connection's decoder (``UDFResponseDecoder``) keeps the series it decoded; what it returns must be what the
/// decoder without a cache returns for every frame, whatever came before.
@Suite("UDF codec: the series cache of a connection's decoder")
struct SeriesCacheDecoderTests {
    /// Decodes `frames` with one decoder (cache of `size`) and one by one without a cache; both must agree.
    private func agree(_ frames: [[UInt8]], cacheSize: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var decoder = UDFResponseDecoder(seriesCacheSize: cacheSize)
        for frame in frames {
            let plain = Result { try UDFCodec.decodeResponse(frame[...]) }
            let cached = Result { try frame.withUnsafeBytes { try decoder.decode($0) } }
            switch (plain, cached) {
            case (.success(let a), .success(let b)): #expect(a == b, sourceLocation: sourceLocation)
            case (.failure(let a), .failure(let b)):
                #expect(String(describing: a) == String(describing: b), sourceLocation: sourceLocation)
            default: Issue.record("plain \(plain) but cached \(cached)", sourceLocation: sourceLocation)
            }
        }
    }

    private func response(_ p: Agent_Point) throws -> [UInt8] {
        var r = Agent_Response()
        r.point = p
        return try r.serializedBytes()
    }

    @Test("random series, random fields: the same points as without a cache", arguments: [1, 4, 1024])
    func randomSeries(cacheSize: Int) throws {
        var g = SeededGenerator(seed: UInt64(cacheSize))
        let series = (0..<24).map { _ in RandomModel.point(&g) }
        var frames: [[UInt8]] = []
        for _ in 0..<600 {
            var p = series.randomElement(using: &g)!
            p.fields = RandomModel.fields(&g)
            p.time = RandomModel.time(&g)
            frames.append(try response(Reference.point(p)))
        }
        try agree(frames, cacheSize: cacheSize)
    }

    @Test("the same series bytes with and without byName give their own groups")
    func byNameIsPartOfTheKey() throws {
        var p = Agent_Point()
        p.name = "cpu"
        p.tags = ["host": "a"]
        p.dimensions = ["host"]
        p.fieldsDouble = ["v": 1]
        var q = p
        q.byName = true
        try agree([try response(p), try response(q), try response(p), try response(q)], cacheSize: 16)
        var decoder = UDFResponseDecoder()
        let groups = try [p, q, p].map { point in
            let bytes = try response(point)
            guard case .point(let decoded) = try bytes.withUnsafeBytes({ try decoder.decode($0) }) else {
                throw UDFCodecError("not a point")
            }
            return decoded.group
        }
        #expect(groups == [GroupID("host=a"), GroupID("cpu\nhost=a"), GroupID("host=a")])
    }

    @Test("series fields split by another field, repeated keys and unknown fields decode as without a cache")
    func oddLayouts() throws {
        var split = Wire()
        split.delimited(17) { p in
            p.string(2, "cpu")
            p.delimited(7) { e in e.string(1, "host"); e.string(2, "a") }
            p.delimited(8) { e in e.string(1, "v"); e.tag(2, 1); e.bytes += [0, 0, 0, 0, 0, 0, 0xF0, 0x3F] }
            p.delimited(7) { e in e.string(1, "host"); e.string(2, "b") }
            p.string(6, "host")
        }
        var repeated = Wire()
        repeated.delimited(17) { p in
            p.string(2, "cpu")
            p.string(6, "host")
            p.delimited(7) { e in e.string(1, "host"); e.string(2, "first") }
            p.delimited(7) { e in e.string(1, "host"); e.string(2, "second") }
            p.delimited(9) { e in e.string(1, "n"); e.tag(2, 0); e.varint(2) }
            p.delimited(10) { e in e.string(1, "n"); e.string(2, "s") }
        }
        var unknown = Wire()
        unknown.delimited(17) { p in
            p.string(2, "cpu")
            p.unknowns(20)
            p.delimited(7) { e in e.string(1, "host"); e.string(2, "a") }
            p.tag(11, 2); p.varint(0) // byName with the wrong wire type: skipped
            p.delimited(12) { e in e.string(1, "b"); e.tag(2, 0); e.varint(1) }
        }
        var badUTF8 = Wire()
        badUTF8.delimited(17) { p in
            p.string(2, "cpu")
            p.delimited(7) { e in e.string(1, "host"); e.delimited(2, [0xFF]) }
        }
        let frames = [split.bytes, repeated.bytes, unknown.bytes, badUTF8.bytes]
        try agree(frames + frames + frames.reversed(), cacheSize: 8)
    }

    @Test("a series' points with the same field keys, then keys reordered, values of every type, odd entries")
    func sameFieldKeys() throws {
        var g = SeededGenerator(seed: 4242)
        let series = (0..<5).map { _ in RandomModel.point(&g) }
        let keySets = (0..<3).map { _ in RandomModel.fields(&g).sortedKeys }
        var frames: [[UInt8]] = []
        for _ in 0..<400 {
            var p = series.randomElement(using: &g)!
            let keys = keySets.randomElement(using: &g)!
            p.fields = Fields(keys.map { ($0, RandomModel.value(&g, unsigned: false)) })
            p.time = RandomModel.time(&g)
            frames.append(try response(Reference.point(p)))
        }
        // Entries written otherwise than key-then-value, a string value that is not UTF-8, a missing value.
        func odd(_ entry: (inout Wire) -> Void) -> [UInt8] {
            var w = Wire()
            w.delimited(17) { p in
                p.string(2, "cpu")
                p.delimited(7) { e in e.string(1, "host"); e.string(2, "a") }
                p.delimited(10) { e in e.string(1, "s"); e.string(2, "text") }
                p.delimited(9, entry)
            }
            return w.bytes
        }
        let regular = odd { e in e.string(1, "n"); e.tag(2, 0); e.varint(5) }
        let oddOnes = [
            odd { e in e.tag(2, 0); e.varint(6); e.string(1, "n") },
            odd { e in e.string(1, "n") },
            odd { e in e.string(1, "n"); e.tag(2, 0); e.varint(7); e.tag(2, 0); e.varint(8) },
            odd { e in e.string(1, "n"); e.tag(2, 1); e.bytes += [0, 0, 0, 0, 0, 0, 0, 0] },
            odd { e in e.string(1, "m"); e.tag(2, 0); e.varint(9) },
            { () -> [UInt8] in
                var w = Wire()
                w.delimited(17) { p in
                    p.string(2, "cpu")
                    p.delimited(7) { e in e.string(1, "host"); e.string(2, "a") }
                    p.delimited(10) { e in e.string(1, "s"); e.delimited(2, [0xC3]) }
                    p.delimited(9) { e in e.string(1, "n"); e.tag(2, 0); e.varint(5) }
                }
                return w.bytes
            }(),
        ]
        for o in oddOnes { frames += [regular, regular, o, regular] }
        try agree(frames, cacheSize: 1024)
        try agree(frames, cacheSize: 1)
    }

    @Test("the points of a series share one tag set and one field-key list")
    func sharedStorage() throws {
        var decoder = UDFResponseDecoder()
        var p = Agent_Point()
        p.name = "temperatures"
        p.tags = ["host": "printer-1", "region": "eu"]
        p.dimensions = ["host"]
        var points: [Point] = []
        for i in 0..<3 {
            p.fieldsDouble = ["air": Double(i), "bed": 90]
            let bytes = try response(p)
            guard case .point(let decoded) = try bytes.withUnsafeBytes({ try decoder.decode($0) }) else {
                throw UDFCodecError("not a point")
            }
            points.append(decoded)
        }
        #expect(points.map(\.fields["air"]) == [.double(0), .double(1), .double(2)])
        #expect(Set(points.map(\.tags.storageIdentity)).count == 1)
        #expect(points.allSatisfy { $0.group == GroupID("host=printer-1") && $0.tags == ["host": "printer-1", "region": "eu"] })
    }
}

/// A connection's encoder (``UDFRequestEncoder``) keeps the series part of the requests it writes; its bytes must be
/// those of ``UDFCodec`` for every message, whatever came before.
@Suite("UDF codec: the series cache of a connection's encoder")
struct SeriesCacheEncoderTests {
    private func plain(_ message: TockModel.Message) -> [UInt8] {
        var out: [UInt8] = []
        switch message {
        case .point(let p): UDFCodec.appendPointRequest(p, to: &out)
        case .batch(let b): UDFCodec.appendBatchRequests(b, to: &out)
        }
        return out
    }

    private func agree(_ messages: [TockModel.Message], cacheSize: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        var encoder = UDFRequestEncoder(seriesCacheSize: cacheSize)
        for message in messages {
            var out: [UInt8] = [7] // something before, as in a connection's pending bytes
            switch message {
            case .point(let p): encoder.appendPointRequest(p, to: &out)
            case .batch(let b): encoder.appendBatchRequests(b, to: &out)
            }
            #expect(out == [7] + plain(message), sourceLocation: sourceLocation)
        }
    }

    @Test("points of shared and unshared tag sets, same tags under other names and groups", arguments: [0, 1, 4, 1024])
    func points(cacheSize: Int) {
        var g = SeededGenerator(seed: 77 + UInt64(cacheSize))
        let series = (0..<20).map { _ in RandomModel.point(&g) }
        var messages: [TockModel.Message] = []
        for _ in 0..<800 {
            var p = series.randomElement(using: &g)!
            p.fields = RandomModel.fields(&g)
            p.time = RandomModel.time(&g)
            switch Int.random(in: 0..<8, using: &g) {
            case 0: p.name += "x" // the same tag storage, another series part
            case 1: p.group = GroupID(p.group.rawValue + ",other")
            case 2: p.dimensions.byName.toggle()
            case 3: p.tags = Tags(p.tags.map { ($0.key, $0.value) }) // equal tags, storage of their own
            case 4: p.database = ""
            default: break
            }
            messages.append(.point(p))
        }
        agree(messages, cacheSize: cacheSize)
    }

    @Test("batches: the batch point's series part is the batch's group and the point's tags", arguments: [0, 2, 1024])
    func batches(cacheSize: Int) {
        var g = SeededGenerator(seed: 900 + UInt64(cacheSize))
        let tagSets = (0..<6).map { _ in RandomModel.tags(&g) }
        var messages: [TockModel.Message] = []
        for _ in 0..<60 {
            let tags = tagSets.randomElement(using: &g)!
            let dims = Dimensions(byName: Bool.random(using: &g), tagNames: tags.sortedKeys)
            let name = RandomModel.string(&g)
            let points = (0..<Int.random(in: 0...5, using: &g)).map { _ in
                BatchPoint(time: RandomModel.time(&g), fields: RandomModel.fields(&g), tags: tagSets.randomElement(using: &g)!)
            }
            messages.append(.batch(Batch(name: name, group: GroupID(name: name, tags: tags, dimensions: dims), tags: tags,
                                         dimensions: dims, tmax: RandomModel.time(&g), points: points)))
            // A stream point of the same tags between batches.
            messages.append(.point(Point(name: name, tags: tags, fields: RandomModel.fields(&g), time: 1)))
        }
        agree(messages, cacheSize: cacheSize)
    }
}
