import Foundation
internal import CZlib

/// The entries of a zip archive, read from its central directory: stored (method 0) and deflate (method 8)
/// entries, CRC-32 checked.
///
/// Written here rather than taken from a package: nothing on the machine reads zip, and Kapacitor's batch
/// recordings need only this much of the format (Go's `archive/zip` writes them: no zip64 below 4 GiB, no
/// encryption, sizes in the central directory even when the local header defers them to a data descriptor).
struct ZipArchive {
    struct Entry {
        var name: String
        var method: UInt16
        var crc32: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    enum Failure: Error, Equatable {
        case malformed(String)
        case entry(String, String)
    }

    let bytes: [UInt8]
    /// In central-directory order (the order Go's `zip.Reader` lists them, and Kapacitor replays them).
    private(set) var entries: [Entry] = []

    /// Archives larger than this are refused (a recording is read whole).
    static let maxArchiveSize = 1 << 30
    /// An entry that inflates to more than this is refused.
    static let maxEntrySize = 1 << 30

    init(bytes: [UInt8]) throws(Failure) {
        self.bytes = bytes
        // The end of central directory record: 22 bytes plus a comment of up to 65,535, at the end.
        let lowest = max(0, bytes.count - 22 - 65_535)
        var eocd: Int?
        var i = bytes.count - 22
        while i >= lowest {
            if u32(i) == 0x0605_4B50 { eocd = i; break }
            i -= 1
        }
        guard let eocd else { throw .malformed("not a zip archive (no end of central directory record)") }
        let count = Int(u16(eocd + 10))
        let size = Int(u32(eocd + 12))
        let offset = Int(u32(eocd + 16))
        if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            throw .malformed("zip64 archives are not supported")
        }
        guard offset + size <= eocd else { throw .malformed("the central directory lies outside the archive") }
        var p = offset
        for index in 0..<count {
            guard p + 46 <= offset + size, u32(p) == 0x0201_4B50 else {
                throw .malformed("central directory entry \(index + 1) of \(count) is damaged")
            }
            let nameLength = Int(u16(p + 28)), extraLength = Int(u16(p + 30)), commentLength = Int(u16(p + 32))
            guard p + 46 + nameLength <= bytes.count else { throw .malformed("central directory entry \(index + 1) is cut short") }
            let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            let flags = u16(p + 8)
            if flags & 1 != 0 { throw .entry(name, "encrypted entries are not supported") }
            let entry = Entry(name: name, method: u16(p + 10), crc32: u32(p + 16), compressedSize: Int(u32(p + 20)),
                              uncompressedSize: Int(u32(p + 24)), localHeaderOffset: Int(u32(p + 42)))
            if entry.compressedSize == 0xFFFF_FFFF || entry.uncompressedSize == 0xFFFF_FFFF {
                throw .entry(name, "zip64 entries are not supported")
            }
            entries.append(entry)
            p += 46 + nameLength + extraLength + commentLength
        }
    }

    /// The entry's contents, decompressed and checked.
    func contents(of entry: Entry) throws(Failure) -> [UInt8] {
        let h = entry.localHeaderOffset
        guard h + 30 <= bytes.count, u32(h) == 0x0403_4B50 else {
            throw .entry(entry.name, "its local header is missing or damaged")
        }
        let start = h + 30 + Int(u16(h + 26)) + Int(u16(h + 28))
        guard start + entry.compressedSize <= bytes.count else {
            throw .entry(entry.name, "its data runs past the end of the archive")
        }
        guard entry.uncompressedSize <= Self.maxEntrySize else {
            throw .entry(entry.name, "it inflates to \(entry.uncompressedSize) bytes, more than the \(Self.maxEntrySize) allowed")
        }
        var out: [UInt8] = []
        switch entry.method {
        case 0:
            out = Array(bytes[start..<(start + entry.compressedSize)])
        case 8:
            out.reserveCapacity(entry.uncompressedSize)
            do {
                let inflater = try Inflater(.raw)
                try bytes.withUnsafeBytes { all in
                    try inflater.decompress(UnsafeRawBufferPointer(rebasing: all[start..<(start + entry.compressedSize)])) { piece in
                        out.append(contentsOf: piece)
                        if out.count > entry.uncompressedSize { throw Inflater.Failure.corrupt("more data than its declared size") }
                    }
                }
                try inflater.finish()
            } catch let failure as Inflater.Failure {
                switch failure {
                case .corrupt(let why): throw .entry(entry.name, "invalid deflate data: \(why)")
                case .truncated: throw .entry(entry.name, "its deflate data ends early")
                case .trailingData: throw .entry(entry.name, "bytes after the end of its deflate data")
                }
            } catch {
                throw .entry(entry.name, "\(error)")
            }
        default:
            throw .entry(entry.name, "compression method \(entry.method) is not supported (only stored and deflate)")
        }
        guard out.count == entry.uncompressedSize else {
            throw .entry(entry.name, "it holds \(out.count) bytes, its header says \(entry.uncompressedSize)")
        }
        let crc = out.withUnsafeBufferPointer { b in
            UInt32(CZlib.crc32(0, b.baseAddress, uInt(b.count)))
        }
        guard crc == entry.crc32 else { throw .entry(entry.name, "checksum mismatch (the archive is damaged)") }
        return out
    }

    private func u16(_ i: Int) -> UInt16 { UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8 }
    private func u32(_ i: Int) -> UInt32 {
        UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
    }
}
