import Foundation

/// The entry point shared by the fuzz executables when they are built without libFuzzer.
///
/// Every argument is a file or a directory of files (not recursive); each file's bytes go through
/// `check`. An error (a ``PropertyViolation``) is printed and makes the exit status 1. This lets the plain
/// `swift build` compile and link the targets, and replays a crasher without the sanitizer:
/// `.build/debug/fuzz-tickscript Tests/Fuzz/Crashers/tickscript/deep-parentheses.tick`.
public enum FuzzReplay {
    public static func main(
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        check: (UnsafeRawBufferPointer) throws -> Void
    ) -> Never {
        if arguments.isEmpty {
            FileHandle.standardError.write(Data("usage: \(CommandLine.arguments[0]) FILE-OR-DIRECTORY...\n".utf8))
            exit(2)
        }
        var failures = 0
        var count = 0
        for path in arguments {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("\(file): cannot read")
                    failures += 1
                    continue
                }
                count += 1
                do {
                    let bytes = [UInt8](data)
                    try bytes.withUnsafeBytes { try check($0) }
                } catch {
                    print("\(file): \(error)")
                    failures += 1
                }
            }
        }
        print("replayed \(count) input\(count == 1 ? "" : "s"), \(failures) failure\(failures == 1 ? "" : "s")")
        exit(failures == 0 ? 0 : 1)
    }

    /// The regular files at `path`: the file itself, or a directory's files sorted by name.
    public static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [path] }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
    }
}
