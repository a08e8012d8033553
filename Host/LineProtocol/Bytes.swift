/// Byte constants and small byte-level routines shared by the parser and the serializer.
enum Byte {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let equals: UInt8 = 0x3D
    static let backslash: UInt8 = 0x5C
}

/// Which bytes end an identifier (measurement, tag key or value, field key) when not escaped,
/// as a bit mask over byte values below 64. Line breaks are always in it.
enum StopSet {
    static let lineBreaks: UInt64 = (1 << 10) | (1 << 13)
    /// Measurement: comma and space.
    static let measurement: UInt64 = lineBreaks | (1 << 32) | (1 << 44)
    /// Tag keys, tag values and field keys: comma, space and equals sign.
    static let key: UInt64 = measurement | (1 << 61)
    /// The whole series key (measurement and tags): only a space ends it.
    static let seriesKey: UInt64 = lineBreaks | (1 << 32)
    /// A field value that is not a string: comma or space.
    static let value: UInt64 = measurement
}

/// Bytewise tests on 8 bytes at once (little-endian: the lowest set bit marks the first match).
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// A word whose lowest set bit is the high bit of the first byte of `w` equal to `b` (0 if none).
    @inline(__always)
    static func has(_ w: UInt64, _ b: UInt8) -> UInt64 {
        let x = w ^ (ones &* UInt64(b))
        return (x &- ones) & ~x & highs
    }

    /// The value of 8 ASCII digits at `p`, or nil when one of them is not a digit.
    @inline(__always)
    static func eightDigits(_ p: UnsafeRawPointer) -> UInt64? {
        let w = p.loadUnaligned(as: UInt64.self)
        guard w & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030,
              (w &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030 else { return nil }
        var v = w & 0x0F0F_0F0F_0F0F_0F0F
        v = (v &* 2561) >> 8
        v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        v = ((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
        return v
    }
}

/// A 64-bit hash of a byte range, 8 bytes at a time (not for security; for the parser's caches).
@inline(__always)
func hashBytes(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> UInt64 {
    var h = seed ^ UInt64(truncatingIfNeeded: end - start)
    var i = start
    let raw = UnsafeRawPointer(p)
    while i + 8 <= end {
        let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        i += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < end {
        tail |= UInt64(p[i]) << shift
        shift += 8
        i += 1
    }
    h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
    h ^= h >> 29
    return h
}

@inline(__always)
func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 8 <= count {
        if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < count {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

/// Parsing of the numeric tokens of line protocol. Each returns `nil` when the token is not
/// well-formed and distinguishes "out of range" with a separate flag.
enum NumberParser {
    enum Result<T> {
        case value(T)
        case malformed
        case outOfRange
    }

    /// 10⁰ … 10²², each exact in a `Double`.
    static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { p, _ in p * 10 } }

    /// `-?[0-9]+` as Int64.
    @inline(__always)
    static func int64(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Result<Int64> {
        var i = start
        var negative = false
        if i < end && p[i] == Byte.minus { negative = true; i += 1 }
        if i == end { return .malformed }
        if end - i <= 19 {
            // At most 19 digits fit in a UInt64: no overflow checks until the end.
            var v: UInt64 = 0
            let raw = UnsafeRawPointer(p)
            while i + 8 <= end, let d = SWAR.eightDigits(raw + i) {
                v = v &* 100_000_000 &+ d
                i += 8
            }
            while i < end {
                let d = p[i] &- Byte.zero
                if d > 9 { return .malformed }
                v = v &* 10 &+ UInt64(d)
                i += 1
            }
            if negative {
                if v > UInt64(Int64.max) + 1 { return .outOfRange }
                return .value(v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v))
            }
            return v > UInt64(Int64.max) ? .outOfRange : .value(Int64(v))
        }
        var magnitude: UInt64 = 0
        var overflow = false
        while i < end {
            let d = p[i] &- Byte.zero
            if d > 9 { return .malformed }
            if !overflow {
                let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(d))
                if o1 || o2 { overflow = true } else { magnitude = s }
            }
            i += 1
        }
        if overflow { return .outOfRange }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 { return .outOfRange }
            return .value(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
        }
        if magnitude > UInt64(Int64.max) { return .outOfRange }
        return .value(Int64(magnitude))
    }

    /// `[0-9]+` as UInt64.
    @inline(__always)
    static func uint64(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Result<UInt64> {
        if start == end { return .malformed }
        var value: UInt64 = 0
        var overflow = false
        var i = start
        while i < end {
            let d = p[i] &- Byte.zero
            if d > 9 { return .malformed }
            if !overflow {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(d))
                if o1 || o2 { overflow = true } else { value = s }
            }
            i += 1
        }
        return overflow ? .outOfRange : .value(value)
    }

    /// A decimal float as InfluxDB accepts it: `-?(digits[.digits*]|.digits)([eE][+-]?digits)?`.
    /// Exact (correctly rounded): short mantissas with small exponents take Clinger's fast path,
    /// everything else goes through the standard library's parser.
    @inline(__always)
    static func double(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Result<Double> {
        var i = start
        var negative = false
        if i < end && p[i] == Byte.minus { negative = true; i += 1 }
        var mantissa: UInt64 = 0
        var significant = 0      // digits accumulated into mantissa
        var exponent = 0         // decimal exponent to apply to mantissa
        var sawDigit = false
        var sawDot = false
        var inexact = false      // more than 19 significant digits
        while i < end {
            let c = p[i]
            let d = c &- Byte.zero
            if d <= 9 {
                sawDigit = true
                if mantissa == 0 && d == 0 {
                    if sawDot { exponent -= 1 }
                } else if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    significant += 1
                    if sawDot { exponent -= 1 }
                } else {
                    inexact = true
                    if !sawDot { exponent += 1 }
                }
            } else if c == Byte.dot && !sawDot {
                sawDot = true
            } else if c == 0x65 || c == 0x45 { // e E
                break
            } else {
                return .malformed
            }
            i += 1
        }
        if !sawDigit { return .malformed }
        if i < end { // exponent part
            i += 1
            var expNegative = false
            if i < end && (p[i] == Byte.plus || p[i] == Byte.minus) { expNegative = p[i] == Byte.minus; i += 1 }
            if i == end { return .malformed }
            var e = 0
            while i < end {
                let d = p[i] &- Byte.zero
                if d > 9 { return .malformed }
                if e < 100_000 { e = e * 10 + Int(d) }
                i += 1
            }
            exponent += expNegative ? -e : e
        }
        if !inexact && mantissa <= (1 << 53) && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            if exponent != 0 {
                let power = powersOfTen[Int(exponent.magnitude)]
                value = exponent < 0 ? value / power : value * power
            }
            return .value(negative ? -value : value)
        }
        if mantissa == 0 && !inexact { return .value(negative ? -0.0 : 0.0) }
        let text = String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
        guard let value = Double(text) else { return .malformed }
        return value.isFinite ? .value(value) : .outOfRange
    }
}
