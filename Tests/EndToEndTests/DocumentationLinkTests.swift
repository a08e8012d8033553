import Foundation
import Testing

/// Every Markdown file of the repository points only at things that exist: a newcomer who follows a link or a
/// named document or path finds it.
@Suite struct DocumentationLinkSpecification {
    /// A reference that names nothing, with the file it is in.
    struct Dangling: CustomStringConvertible {
        var file: String
        var line: Int
        var target: String
        var description: String { "\(file):\(line): \(target)" }
    }

    /// The repository's Markdown files, relative to its root (hidden folders and build folders left out).
    static func markdownFiles() -> [String] {
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: URL(fileURLWithPath: TockBinary.root), includingPropertiesForKeys: [.isDirectoryKey],
                                         options: [.skipsHiddenFiles]) else { return [] }
        var files: [String] = []
        let rootLength = TockBinary.root.count + 1
        for case let url as URL in walker {
            let name = url.lastPathComponent
            if name.hasPrefix(".build") || name == "node_modules" || name == "__pycache__" {
                walker.skipDescendants()
                continue
            }
            if url.pathExtension == "md" { files.append(String(url.standardizedFileURL.path.dropFirst(rootLength))) }
        }
        return files.sorted()
    }

    /// The repository's top-level folders (`Host`, `Tests`, …): a code span starting with one names a path.
    static let topLevelFolders: Set<String> = {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: TockBinary.root)) ?? []
        return Set(entries.filter { entry in
            var isDirectory: ObjCBool = false
            return !entry.hasPrefix(".") && FileManager.default.fileExists(atPath: TockBinary.root + "/" + entry, isDirectory: &isDirectory)
                && isDirectory.boolValue
        })
    }()

    /// The references of `text`: Markdown links (`[text](target)`, `[label]: target`) outside code, and code spans
    /// that name a Markdown document or a path under a top-level folder; each with its line.
    static func references(in text: String) -> [(line: Int, target: String, isLink: Bool)] {
        var found: [(Int, String, Bool)] = []
        var inFence = false
        let linkPattern = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/
        let definitionPattern = /^\s{0,3}\[[^\]]+\]:\s*(\S+)/
        let spanPattern = /`([^`\n]+)`/
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                inFence.toggle()
                continue
            }
            if inFence { continue }
            for match in line.matches(of: spanPattern) {
                let span = String(match.1).trimmingCharacters(in: .whitespaces)
                if span.contains(" ") || span.contains(where: { "*<>…{}$|".contains($0) }) { continue }
                let path = String(span.split(separator: ":").first ?? "")
                let first = String(path.split(separator: "/").first ?? "")
                if path.hasSuffix(".md") || (path.contains("/") && topLevelFolders.contains(first)) {
                    found.append((index + 1, path, false))
                }
            }
            let outsideSpans = line.replacing(spanPattern, with: "")
            for match in outsideSpans.matches(of: linkPattern) { found.append((index + 1, String(match.1), true)) }
            if let match = outsideSpans.firstMatch(of: definitionPattern) { found.append((index + 1, String(match.1), true)) }
        }
        return found
    }

    static func dangling() throws -> [Dangling] {
        var result: [Dangling] = []
        let fm = FileManager.default
        for file in markdownFiles() {
            let text = try String(contentsOfFile: TockBinary.root + "/" + file, encoding: .utf8)
            let directory = (TockBinary.root + "/" + file as NSString).deletingLastPathComponent
            for reference in references(in: text) {
                let target = reference.target
                if target.hasPrefix("#") || target.firstMatch(of: /^[a-zA-Z][a-zA-Z0-9+.-]*:/) != nil { continue }
                let path = String(target.split(separator: "#", maxSplits: 1).first ?? "")
                if path.isEmpty { continue }
                let decoded = path.removingPercentEncoding ?? path
                // Links are relative to the file; a named path may also be relative to the repository's root.
                var candidates = [directory + "/" + decoded]
                if !reference.isLink { candidates.append(TockBinary.root + "/" + decoded) }
                if !candidates.contains(where: { fm.fileExists(atPath: $0) }) {
                    result.append(Dangling(file: file, line: reference.line, target: target))
                }
            }
        }
        return result
    }

    @Test func everyRelativeLinkAndNamedPathInTheMarkdownFilesExists() throws {
        #expect(Self.markdownFiles().contains("README.md"))
        #expect(Self.markdownFiles().contains("SampleUDFs/README.md"))
        let dangling = try Self.dangling()
        #expect(dangling.isEmpty, "dangling references:\n\(dangling.map(\.description).joined(separator: "\n"))")
    }

    @Test func theCheckFindsWhatItLooksFor() {
        let text = """
            See [the guide](docs/guide.md#start) and [site](https://example.com), `Host/Engine` and `printer-demo.md`.
            [ref]: ../other.md
            ```
            [not a link](nowhere.md) `Host/Nowhere`
            ```
            `tock run task.tick` and `day.lp` name no repository path.
            """
        let targets = Self.references(in: text).map(\.target)
        #expect(targets.contains("docs/guide.md#start"))
        #expect(targets.contains("https://example.com"))
        #expect(targets.contains("Host/Engine"))
        #expect(targets.contains("printer-demo.md"))
        #expect(targets.contains("../other.md"))
        #expect(!targets.contains("nowhere.md"))
        #expect(!targets.contains("Host/Nowhere"))
        #expect(!targets.contains("day.lp"))
    }
}
