/// SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and PBKDF2-HMAC-SHA256 (RFC 8018), self-contained so that
/// the daemon needs no cryptography package for storing passwords and tokens.
public enum SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
    private static let initial: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]

    /// The 32-byte digest of `message`.
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var state = initial
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bits = UInt64(message.count) &* 8
        for shift in stride(from: 56, through: 0, by: -8) { padded.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        var w = [UInt32](repeating: 0, count: 64)
        for offset in stride(from: 0, to: padded.count, by: 64) {
            compress(&state, padded, offset, &w)
        }
        return bytes(state)
    }

    /// The hex digest of `text`'s UTF-8.
    public static func hex(_ text: String) -> String { hexString(hash(Array(text.utf8))) }

    public static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// HMAC-SHA256 of `message` under `key`.
    public static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        let (inner, outer) = pads(key)
        return hash(outer + hash(inner + message))
    }

    /// PBKDF2-HMAC-SHA256: `length` bytes derived from `password` and `salt` with `iterations` rounds.
    public static func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int, length: Int = 32) -> [UInt8] {
        let (innerPad, outerPad) = pads(password)
        // The states after the pad blocks are the same for every round: compute them once. Each round then
        // hashes 32 bytes after a 64-byte prefix: one final block (96 bytes of message, padded), twice.
        var innerState = initial, outerState = initial
        var w = [UInt32](repeating: 0, count: 64)
        compress(&innerState, innerPad, 0, &w)
        compress(&outerState, outerPad, 0, &w)
        var output: [UInt8] = []
        var index: UInt32 = 1
        while output.count < length {
            let first = hash(outerPad + hash(innerPad + salt + [UInt8(index >> 24), UInt8((index >> 16) & 255),
                                                                UInt8((index >> 8) & 255), UInt8(index & 255)]))
            var t = first
            if iterations > 1 {
                t = rounds(from: first, count: iterations - 1, inner: innerState, outer: outerState)
            }
            output += t
            index += 1
        }
        return Array(output.prefix(length))
    }

    /// `count` further PBKDF2 rounds from `u1`, XORed together with it; on raw buffers, since this loop is
    /// all the time a password check takes.
    private static func rounds(from u1: [UInt8], count: Int, inner: [UInt32], outer: [UInt32]) -> [UInt8] {
        let block = UnsafeMutablePointer<UInt32>.allocate(capacity: 16)
        let state = UnsafeMutablePointer<UInt32>.allocate(capacity: 8)
        let sum = UnsafeMutablePointer<UInt32>.allocate(capacity: 8)
        let w = UnsafeMutablePointer<UInt32>.allocate(capacity: 64)
        defer { block.deallocate(); state.deallocate(); sum.deallocate(); w.deallocate() }
        for i in 0..<8 {
            let j = i * 4
            let word = UInt32(u1[j]) << 24 | UInt32(u1[j + 1]) << 16 | UInt32(u1[j + 2]) << 8 | UInt32(u1[j + 3])
            block[i] = word
            sum[i] = word
        }
        block[8] = 0x8000_0000
        for i in 9..<15 { block[i] = 0 }
        block[15] = 768 // (64 + 32) bytes, in bits
        k.withUnsafeBufferPointer { k in
            for _ in 0..<count {
                for i in 0..<8 { state[i] = inner[i] }
                compressWords(state, block, w, k.baseAddress!)
                for i in 0..<8 { block[i] = state[i] }
                for i in 0..<8 { state[i] = outer[i] }
                compressWords(state, block, w, k.baseAddress!)
                for i in 0..<8 {
                    block[i] = state[i]
                    sum[i] ^= state[i]
                }
            }
        }
        return bytes((0..<8).map { sum[$0] })
    }

    private static func compressWords(_ state: UnsafeMutablePointer<UInt32>, _ block: UnsafeMutablePointer<UInt32>,
                                      _ w: UnsafeMutablePointer<UInt32>, _ k: UnsafePointer<UInt32>) {
        for i in 0..<16 { w[i] = block[i] }
        var i = 16
        while i < 64 {
            let a = w[i - 15], b = w[i - 2]
            let s0 = (a >> 7 | a << 25) ^ (a >> 18 | a << 14) ^ (a >> 3)
            let s1 = (b >> 17 | b << 15) ^ (b >> 19 | b << 13) ^ (b >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            i += 1
        }
        var a = state[0], b = state[1], c = state[2], d = state[3]
        var e = state[4], f = state[5], g = state[6], h = state[7]
        i = 0
        while i < 64 {
            let s1 = (e >> 6 | e << 26) ^ (e >> 11 | e << 21) ^ (e >> 25 | e << 7)
            let ch = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
            let s0 = (a >> 2 | a << 30) ^ (a >> 13 | a << 19) ^ (a >> 22 | a << 10)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            h = g; g = f; f = e; e = d &+ t1
            d = c; c = b; b = a; a = t1 &+ s0 &+ maj
            i += 1
        }
        state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d
        state[4] &+= e; state[5] &+= f; state[6] &+= g; state[7] &+= h
    }

    private static func pads(_ key: [UInt8]) -> (inner: [UInt8], outer: [UInt8]) {
        var k = key.count > 64 ? hash(key) : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        return (k.map { $0 ^ 0x36 }, k.map { $0 ^ 0x5c })
    }

    private static func bytes(_ state: [UInt32]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in state {
            out.append(UInt8(word >> 24)); out.append(UInt8((word >> 16) & 255))
            out.append(UInt8((word >> 8) & 255)); out.append(UInt8(word & 255))
        }
        return out
    }

    private static func compress(_ state: inout [UInt32], _ data: [UInt8], _ offset: Int, _ w: inout [UInt32]) {
        for i in 0..<16 {
            let j = offset + i * 4
            w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var a = state[0], b = state[1], c = state[2], d = state[3]
        var e = state[4], f = state[5], g = state[6], h = state[7]
        for i in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            h = g; g = f; f = e; e = d &+ t1
            d = c; c = b; b = a; a = t1 &+ t2
        }
        state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d
        state[4] &+= e; state[5] &+= f; state[6] &+= g; state[7] &+= h
    }

    @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}
