import TockModel

enum SeriesKeyOutcome {
    case parsed(String, Tags)
    case failure(at: Int, String)
}

extension LineProtocolParser {
    /// Parses and validates `measurement[,k=v...]` in `p[start..<keyEnd]`; `keyEnd` is where the
    /// series-key scan stopped (a space, or the line end which is an error).
    mutating func parseSeriesKey(_ p: UnsafePointer<UInt8>, _ start: Int, _ keyEnd: Int,
                                 _ end: Int) -> SeriesKeyOutcome {
        if p[start] == Byte.comma {
            return .failure(at: start, "expected a measurement name, found \",\"")
        }
        var flags: UInt8 = 0
        let nameEnd = scanKeyPart(p, start, end, StopSet.measurement, &flags, limit: keyEnd)
        guard let name = identifier(p, start, nameEnd, flags, unescapes: .nameOrFieldKey) else {
            return .failure(at: start, "invalid UTF-8 in measurement")
        }
        if nameEnd == keyEnd {
            if keyEnd < end && p[keyEnd] == Byte.space { return .parsed(name, Tags()) }
            return .failure(at: keyEnd, "expected fields after measurement \(quoted(p, start, nameEnd)), found end of line")
        }
        // p[nameEnd] is a comma: tags follow.
        tagSpans.removeAll(keepingCapacity: true)
        var i = nameEnd + 1
        while true {
            var keyFlags: UInt8 = 0
            let keyStart = i
            let tagKeyEnd = scanKeyPart(p, keyStart, end, StopSet.key, &keyFlags, limit: keyEnd)
            if tagKeyEnd == keyStart {
                return .failure(at: keyStart, "expected a tag key after \(quoted(p, start, keyStart)), found \(describe(p, keyStart, end))")
            }
            if tagKeyEnd == keyEnd || p[tagKeyEnd] != Byte.equals {
                return .failure(at: tagKeyEnd, "expected \"=\" after tag key \(quoted(p, keyStart, tagKeyEnd)), found \(describe(p, tagKeyEnd, end))")
            }
            let valueStart = tagKeyEnd + 1
            var valueFlags: UInt8 = 0
            // A value may start with "=" (InfluxDB reads `t==a` as the value "=a"), not with a comma or space.
            let valueEnd = valueStart < keyEnd && p[valueStart] == Byte.equals
                ? scanKeyPart(p, valueStart + 1, end, StopSet.key, &valueFlags, limit: keyEnd)
                : scanKeyPart(p, valueStart, end, StopSet.key, &valueFlags, limit: keyEnd)
            if valueEnd == valueStart {
                return .failure(at: valueStart, "expected a tag value after \(quoted(p, keyStart, valueStart)), found \(describe(p, valueStart, end))")
            }
            tagSpans.append(TagSpan(keyStart: keyStart, keyEnd: tagKeyEnd, keyFlags: keyFlags,
                                    valueStart: valueStart, valueEnd: valueEnd, valueFlags: valueFlags))
            if valueEnd == keyEnd {
                if keyEnd < end && p[keyEnd] == Byte.space { break }
                return .failure(at: keyEnd, "expected fields after \(quoted(p, start, keyEnd)), found end of line")
            }
            if p[valueEnd] == Byte.equals {
                return .failure(at: valueEnd, "expected \",\" or a space after tag value \(quoted(p, valueStart, valueEnd)), found \"=\" (write it as \\=)")
            }
            i = valueEnd + 1 // past the comma
        }
        var tags: [(key: String, value: String, at: Int)] = []
        tags.reserveCapacity(tagSpans.count)
        for span in tagSpans {
            guard let key = identifier(p, span.keyStart, span.keyEnd, span.keyFlags, unescapes: .tag) else {
                return .failure(at: span.keyStart, "invalid UTF-8 in tag key")
            }
            guard let value = identifier(p, span.valueStart, span.valueEnd, span.valueFlags, unescapes: .tag) else {
                return .failure(at: span.valueStart, "invalid UTF-8 in tag value")
            }
            tags.append((key, value, span.keyStart))
        }
        insertionSort(&tags) { $0.key < $1.key }
        for k in tags.indices.dropFirst() where tags[k].key == tags[k - 1].key {
            return .failure(at: tags[k].at, "duplicate tag key \"\(tags[k].key)\"")
        }
        return .parsed(name, Tags(sortedKeys: tags.map(\.key), values: tags.map(\.value)))
    }

    /// Parses the field value that starts at `start` (just after `=`).
    @inline(__always)
    mutating func parseValue(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, final: Bool,
                             keyStart: Int, breaks: inout Int) -> ValueOutcome {
        let key = start - 1
        if isLineEnd(p, start, end) || p[start] == Byte.comma || p[start] == Byte.space || p[start] == Byte.tab {
            return .failure(at: start, "expected a field value after \(quoted(p, keyStart, start)), found \(describe(p, start, end))")
        }
        let c = p[start]
        if c == Byte.quote { return parseString(p, start, end, final: final, keyStart: keyStart, breaks: &breaks) }
        var e = start
        while e < end {
            let b = p[e]
            if b < 64 && (StopSet.value >> UInt64(b)) & 1 != 0 && (b != Byte.carriageReturn || isLineEnd(p, e, end)) { break }
            if b == Byte.tab { break }
            e += 1
        }
        if (c &- Byte.zero) <= 9 || c == Byte.minus || c == Byte.dot {
            let last = p[e - 1]
            if last == 0x69 { // i
                switch NumberParser.int64(p, start, e - 1) {
                case .value(let v): return .value(.int(v), end: e)
                case .malformed: return .failure(at: start, "invalid integer \(quoted(p, start, e)) for field \(quoted(p, keyStart, key))")
                case .outOfRange: return .failure(at: start, "integer \(quoted(p, start, e)) is out of range for field \(quoted(p, keyStart, key))")
                }
            }
            if last == 0x75 { // u
                switch NumberParser.uint64(p, start, e - 1) {
                case .value(let v): return .value(.uint(v), end: e)
                case .malformed: return .failure(at: start, "invalid unsigned integer \(quoted(p, start, e)) for field \(quoted(p, keyStart, key))")
                case .outOfRange: return .failure(at: start, "unsigned integer \(quoted(p, start, e)) is out of range for field \(quoted(p, keyStart, key))")
                }
            }
            switch NumberParser.double(p, start, e) {
            case .value(let v): return .value(.double(v), end: e)
            case .malformed: return .failure(at: start, "invalid number \(quoted(p, start, e)) for field \(quoted(p, keyStart, key))")
            case .outOfRange: return .failure(at: start, "float \(quoted(p, start, e)) is out of range for field \(quoted(p, keyStart, key))")
            }
        }
        if c == 0x74 || c == 0x54 || c == 0x66 || c == 0x46 { // t T f F
            if let b = boolean(p, start, e) { return .value(.bool(b), end: e) }
            return .failure(at: start, "invalid boolean \(quoted(p, start, e)) for field \(quoted(p, keyStart, key))")
        }
        return .failure(at: start, "invalid value \(quoted(p, start, e)) for field \(quoted(p, keyStart, key)): expected a number, a boolean or a string in double quotes")
    }

    /// `t T true True TRUE f F false False FALSE`, nothing else.
    @inline(__always)
    func boolean(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool? {
        func equals(_ word: StaticString) -> Bool {
            word.utf8CodeUnitCount == end - start && bytesEqual(word.utf8Start, p + start, end - start)
        }
        switch end - start {
        case 1:
            switch p[start] {
            case 0x74, 0x54: return true
            case 0x66, 0x46: return false
            default: return nil
            }
        case 4: return equals("true") || equals("True") || equals("TRUE") ? true : nil
        case 5: return equals("false") || equals("False") || equals("FALSE") ? false : nil
        default: return nil
        }
    }

    /// A string value from the opening quote at `start`; `\"` and `\\` are unescaped.
    mutating func parseString(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, final: Bool,
                              keyStart: Int, breaks: inout Int) -> ValueOutcome {
        var k = start + 1
        var escaped = false
        var seen: UInt8 = 0
        var lineBreaks = 0
        while k < end {
            let c = p[k]
            if c == Byte.quote { break }
            if c == Byte.backslash && k + 1 < end {
                escaped = true
                let n = p[k + 1]
                if n == Byte.newline { lineBreaks += 1 }
                seen |= n
                k += 2
                continue
            }
            if c == Byte.newline { lineBreaks += 1 }
            seen |= c
            k += 1
        }
        if k >= end {
            if !final { return .incomplete }
            return .failure(at: start, "expected a closing double quote for the string value of field \(quoted(p, keyStart, start - 1)), found end of input")
        }
        let raw = UnsafeBufferPointer(start: p + start + 1, count: k - start - 1)
        let value: String?
        if escaped {
            unescaped.removeAll(keepingCapacity: true)
            var j = start + 1
            while j < k {
                let c = p[j]
                if c == Byte.backslash && j + 1 < k && (p[j + 1] == Byte.quote || p[j + 1] == Byte.backslash) {
                    unescaped.append(p[j + 1])
                    j += 2
                } else {
                    unescaped.append(c)
                    j += 1
                }
            }
            value = String(validating: unescaped, as: UTF8.self)
        } else if seen & 0x80 != 0 {
            value = String(validating: raw, as: UTF8.self)
        } else {
            value = String(decoding: raw, as: UTF8.self)
        }
        guard let value else {
            return .failure(at: start, "invalid UTF-8 in the string value of field \(quoted(p, keyStart, start - 1))")
        }
        breaks += lineBreaks
        return .value(.string(value), end: k + 1)
    }
}
