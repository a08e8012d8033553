import Foundation
import Testing

/// Writes `text` to `name` in `directory` and returns the file's path.
func file(_ name: String, _ text: String, in directory: String) throws -> String {
    let path = directory + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Expects a CLI run to have succeeded, reporting `what` and its stderr otherwise; returns its stdout.
@discardableResult
func ok(_ result: TockBinary.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    #expect(result.status == 0, "\(what) failed (\(result.status)): \(result.stderr)", sourceLocation: sourceLocation)
    return result.stdout
}
