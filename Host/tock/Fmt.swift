import ArgumentParser
import Foundation
import TICKScript

/// `tock fmt`: Kapacitor's `tickfmt`. Prints each script in the canonical layout, or rewrites it with `-w`.
struct Fmt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Format TICKscripts in the canonical tickfmt layout.",
        discussion: "With no files, reads a script from standard input. A script that does not parse is "
            + "left untouched; its error is printed to standard error and the command exits non-zero.")

    @Flag(name: .customShort("w"), help: "Write the formatted script back to each file instead of printing it.")
    var write = false

    @Flag(name: .customShort("b"), help: "With -w, keep the original as FILE.orig.")
    var backup = false

    @Argument(help: "TICKscript files ('-' for standard input).")
    var files: [String] = []

    func validate() throws {
        if write && (files.isEmpty || files.contains("-")) {
            throw ValidationError("-w needs files to rewrite; standard input cannot be rewritten")
        }
    }

    func run() throws {
        var failed = false
        for path in files.isEmpty ? ["-"] : files {
            let source: String
            do {
                source = try Self.read(path)
            } catch {
                FileHandle.standardError.write(Data("\(path): cannot read: \(error.localizedDescription)\n".utf8))
                failed = true
                continue
            }
            let formatted: String
            do {
                formatted = try Program.parse(source, check: false).formatted()
            } catch {
                let name = path == "-" ? "<stdin>" : path
                FileHandle.standardError.write(Data("\(name):\(error.rendered(source: source))\n".utf8))
                failed = true
                continue
            }
            if write {
                let url = URL(fileURLWithPath: path)
                if backup { try Data(source.utf8).write(to: URL(fileURLWithPath: path + ".orig")) }
                try Data(formatted.utf8).write(to: url, options: .atomic)
            } else {
                FileHandle.standardOutput.write(Data(formatted.utf8))
            }
        }
        if failed { throw ExitCode.failure }
    }

    private static func read(_ path: String) throws -> String {
        let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
        return String(decoding: data, as: UTF8.self)
    }
}
