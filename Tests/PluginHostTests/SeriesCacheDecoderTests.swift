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
