import Foundation

/// The mail Kapacitor's smtp service sends, byte for byte as gomail v2 writes it (`writeto.go`): `Mime-Version`,
/// `Date` (RFC 1123 with a numeric zone), `From`, `To`, `Subject` (RFC 2047 Q-encoded when not plain ASCII, folded at
/// 76 columns), then the single `text/html; charset=UTF-8` part in quoted-printable.
///
/// gomail writes the three address and subject headers in Go's map order, which varies; Tock writes them in this order.
enum MailMessage {
    static func render(from: String, to: [String], subject: String, html: String, date: Date) -> [UInt8] {
        var out = "Mime-Version: 1.0\r\n"
        out += header("Date", [rfc1123Z(date)])
        out += header("From", [encodeWord(from)])
        out += header("To", to.map(encodeWord))
        out += header("Subject", [encodeWord(subject)])
        out += header("Content-Type", ["text/html; charset=UTF-8"])
        out += header("Content-Transfer-Encoding", ["quoted-printable"])
        out += "\r\n"
        return Array(out.utf8) + quotedPrintable(Array(html.utf8))
    }

    /// `Mon, 02 Jan 2006 15:04:05 -0700`, in UTC.
    static func rfc1123Z(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f.string(from: date)
    }

    /// One header line as gomail's `writeHeader` folds it: values joined by `, `, lines kept within 76 columns by
    /// breaking at spaces.
    static func header(_ name: String, _ values: [String]) -> String {
        var out = name
        if values.isEmpty { return out + ":\r\n" }
        out += ": "
        var charsLeft = 76 - name.utf8.count - 2
        for (i, value) in values.enumerated() {
            var s = Array(value.utf8)
            if charsLeft < 1 {
                out += i == 0 ? "\r\n " : ",\r\n "
                charsLeft = 75
            } else if i != 0 {
                out += ", "
                charsLeft -= 2
            }
            while s.count > charsLeft {
                s = writeLine(s, charsLeft: charsLeft, into: &out)
                charsLeft = 75
            }
            out += String(decoding: s, as: UTF8.self)
            if let nl = s.lastIndex(of: UInt8(ascii: "\n")) {
                charsLeft = 75 - (s.count - nl - 1)
            } else {
                charsLeft -= s.count
            }
        }
        return out + "\r\n"
    }

    private static func writeLine(_ s: [UInt8], charsLeft: Int, into out: inout String) -> [UInt8] {
        func text(_ b: ArraySlice<UInt8>) -> String { String(decoding: b, as: UTF8.self) }
        if let i = s.firstIndex(of: UInt8(ascii: "\n")), i < charsLeft {
            out += text(s[...i])
            return Array(s[(i + 1)...])
        }
        var i = charsLeft - 1
        while i >= 0 {
            if s[i] == UInt8(ascii: " ") {
                out += text(s[..<i]) + "\r\n "
                return Array(s[(i + 1)...])
            }
            i -= 1
        }
        if charsLeft != 75 {
            out += "\r\n "
            return s
        }
        for j in 75..<s.count {
            if s[j] == UInt8(ascii: " ") {
                out += text(s[..<j]) + "\r\n "
                return Array(s[(j + 1)...])
            }
            if s[j] == UInt8(ascii: "\n") {
                out += text(s[...j])
                return Array(s[(j + 1)...])
            }
        }
        out += text(s[...])
        return []
    }

    /// Go's `mime.QEncoding.Encode("UTF-8", s)`: unchanged when every rune is printable ASCII or a tab, else
    /// `=?UTF-8?q?…?=` words of at most 75 characters that never split a rune.
    static func encodeWord(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { ($0.value < 0x20 || $0.value > 0x7E) && $0 != "\t" }) else { return s }
        let prefix = "=?UTF-8?q?"
        var out = prefix
        var currentLen = 0
        for scalar in s.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            let plain = bytes.count == 1 && bytes[0] >= 0x20 && bytes[0] <= 0x7E && bytes[0] != UInt8(ascii: "=")
                && bytes[0] != UInt8(ascii: "?") && bytes[0] != UInt8(ascii: "_")
            let encLen = plain ? 1 : 3 * bytes.count
            if currentLen + encLen > 63 {
                out += "?= " + prefix
                currentLen = 0
            }
            for b in bytes {
                if b == UInt8(ascii: " ") {
                    out += "_"
                } else if b >= UInt8(ascii: "!") && b <= UInt8(ascii: "~") && b != UInt8(ascii: "=") && b != UInt8(ascii: "?") && b != UInt8(ascii: "_") {
                    out.unicodeScalars.append(Unicode.Scalar(b))
                } else {
                    out += hexByte(b)
                }
            }
            currentLen += encLen
        }
        return out + "?="
    }

    /// Go's `mime/quotedprintable.Writer` (text mode): lines of at most 76 characters with `=` soft breaks, line
    /// ends as CR LF, `=`, control and non-ASCII bytes as `=XX`, and a space or tab before a line end encoded.
    static func quotedPrintable(_ input: [UInt8]) -> [UInt8] {
        var writer = QPWriter()
        for b in input { writer.put(b) }
        return writer.finish()
    }

    private static func hexByte(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "=" + String(digits[Int(b >> 4)]) + String(digits[Int(b & 0x0F)])
    }

    private struct QPWriter {
        var out: [UInt8] = []
        var line: [UInt8] = []
        var cr = false
        static let maxLine = 76

        mutating func put(_ b: UInt8) {
            let isWhitespace = b == UInt8(ascii: " ") || b == UInt8(ascii: "\t")
            if (b >= UInt8(ascii: "!") && b <= UInt8(ascii: "~") && b != UInt8(ascii: "=")) || isWhitespace
                || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") {
                write(b)
            } else {
                encode(b)
            }
        }

        mutating func write(_ b: UInt8) {
            if b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") {
                if cr && b == UInt8(ascii: "\n") {
                    cr = false
                    return
                }
                if b == UInt8(ascii: "\r") { cr = true }
                checkLastByte()
                insertCRLF()
                return
            }
            if line.count == Self.maxLine - 1 { softBreak() }
            line.append(b)
            cr = false
        }

        mutating func encode(_ b: UInt8) {
            if Self.maxLine - 1 - line.count < 3 { softBreak() }
            line += Array(hexByte(b).utf8)
        }

        mutating func checkLastByte() {
            guard let last = line.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") else { return }
            line.removeLast()
            encode(last)
        }

        mutating func softBreak() {
            line.append(UInt8(ascii: "="))
            insertCRLF()
        }

        mutating func insertCRLF() {
            line += [13, 10]
            out += line
            line = []
        }

        mutating func finish() -> [UInt8] {
            checkLastByte()
            out += line
            line = []
            return out
        }
    }

    /// The DATA section as Go's `textproto.DotWriter` sends it: bare LF as CR LF, a leading `.` doubled, ending in
    /// `CR LF . CR LF`.
    static func dotStuffed(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 8)
        var atLineStart = true
        var previous: UInt8 = 0
        for b in data {
            if atLineStart && b == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            if b == UInt8(ascii: "\n") && previous != UInt8(ascii: "\r") { out.append(13) }
            out.append(b)
            atLineStart = b == UInt8(ascii: "\n")
            previous = b
        }
        if !atLineStart { out += [13, 10] }
        return out + Array(".\r\n".utf8)
    }

    /// The address in `Name <addr>` or `addr`, as gomail's `mail.ParseAddress` takes it for the envelope.
    static func address(_ s: String) -> String {
        if let open = s.lastIndex(of: "<"), let close = s.lastIndex(of: ">"), open < close {
            return String(s[s.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
        }
        return s.trimmingCharacters(in: .whitespaces)
    }
}
