#if canImport(Glibc)
import Glibc
#endif

/// File globs as Telegraf expands them (`internal/globpath`, over the doublestar package): `*`, `?` and `[…]` match
/// within one path element (a leading dot included), `**` as a whole element matches any number of directories (none
/// included), and `**` inside an element (`/etc/**.pem`) is `**/*` (Telegraf rewrites it so). A path without any of
/// them names itself when it exists. Matches come sorted by name within each directory, as Go's `os.ReadDir` lists
/// them; `**` does not follow symbolic links to directories (a link cycle cannot make it loop).
public enum FileGlob {
    /// Whether `pattern` has glob characters (else it is a plain path).
    public static func hasMeta(_ pattern: String) -> Bool {
        pattern.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// A problem with `pattern` (an unclosed `[`), or `nil` when it can be matched.
    public static func problem(_ pattern: String) -> String? {
        for element in pattern.split(separator: "/") where element.contains("[") {
            var open = false
            for c in element {
                if c == "[" { open = true } else if c == "]" { open = false }
            }
            if open { return "unclosed [ in \"\(element)\"" }
        }
        return nil
    }

    /// The existing paths `pattern` matches (relative patterns from the current directory), each once.
    public static func matches(_ pattern: String) -> [String] {
        var elements: [String] = []
        for element in pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init) {
            if element != "**" && element.contains("**") {
                elements += ["**", element.replacingOccurrences(of: "**", with: "*")]
            } else {
                elements.append(element)
            }
        }
        let absolute = pattern.hasPrefix("/")
        var found: [String] = []
        var seen: Set<String> = []
        walk(absolute ? "/" : "", elements[...]) { path in
            if seen.insert(path).inserted { found.append(path) }
        }
        return found
    }

    private static func walk(_ directory: String, _ elements: ArraySlice<String>, _ found: (String) -> Void) {
        guard let element = elements.first else {
            if !directory.isEmpty && exists(directory) { found(directory) }
            return
        }
        let rest = elements.dropFirst()
        if element == "**" {
            walk(directory, rest, found)
            for entry in entries(directory) where isDirectory(join(directory, entry)) {
                walk(join(directory, entry), elements, found)
            }
        } else if hasMeta(element) {
            for entry in entries(directory) where fnmatch(element, entry, 0) == 0 {
                walk(join(directory, entry), rest, found)
            }
        } else {
            walk(join(directory, element), rest, found)
        }
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory == "/" ? "/" + name : directory + "/" + name
    }

    /// The names in `directory` (the current one when empty), sorted, without `.` and `..`.
    private static func entries(_ directory: String) -> [String] {
        guard let handle = opendir(directory.isEmpty ? "." : directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// A directory itself, not a link to one.
    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
