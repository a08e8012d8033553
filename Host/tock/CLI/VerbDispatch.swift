import ArgumentParser

/// What `tock` answers about its words before (and after) ArgumentParser parses them: `tock help VERB`, a
/// word that is no verb (with the closest verb), one of Kapacitor's verbs that Tock does not have yet (said
/// plainly), options before any verb, and an unknown option (with the closest option of its verb).
enum VerbDispatch {
    /// Kapacitor's client verbs that Tock does not have, with what to do instead.
    static let kapacitorVerbsNotYet: [String: String] = [
        "watch": "it follows a task's log lines; meanwhile read the daemon's log (`tock serve` writes it to standard error), "
            + "and `tock show TASK` for the task's counters",
        "logs": "it follows the daemon's log over the API; meanwhile read the daemon's log (`tock serve` writes it to standard error)",
        "backup": "it copies the daemon's database; meanwhile copy <data_dir>/tock.db (SQLite) while the daemon is stopped, "
            + "or with `sqlite3 tock.db .backup FILE` while it runs",
        "push": "it publishes a task to another Kapacitor; meanwhile `tock show TASK` prints its TICKscript, "
            + "and `tock define` on the other server takes it",
    ]

    /// What to do with the command line.
    enum Outcome: Equatable {
        /// Hand the arguments to ArgumentParser.
        case parse([String])
        /// Print this on standard output and exit 0.
        case help(String)
        /// Print this on standard error and exit with `status`.
        case refuse(String, status: Int32)
    }

    /// The exit status of a command line that names no verb or an unknown one (ArgumentParser's for usage errors).
    static let usageStatus: Int32 = 64

    /// The verb names of `commands`, `help` included.
    static func verbNames(_ commands: [any ParsableCommand.Type]) -> [String] {
        commands.map { $0._commandName } + ["help"]
    }

    /// Looks at `arguments` (global flags already moved behind the verb) before ArgumentParser does.
    static func examine(_ arguments: [String], commands: [any ParsableCommand.Type], root: any ParsableCommand.Type) -> Outcome {
        let verbs = verbNames(commands)
        guard let first = arguments.first else { return .parse(arguments) }
        if first == "help" {
            let words = arguments.dropFirst().prefix { !$0.hasPrefix("-") }
            guard let verb = words.first, verb != "help" else { return .help(root.helpMessage()) }
            guard let command = commands.first(where: { $0._commandName == verb }) else {
                return .refuse(unknownVerb(verb, verbs: verbs), status: usageStatus)
            }
            // `tock help users add`: the deepest subcommand the words name.
            var target = command
            for word in words.dropFirst() {
                guard let sub = target.configuration.subcommands.first(where: { $0._commandName == word }) else { break }
                target = sub
            }
            return .help(root.helpMessage(for: target))
        }
        if first.hasPrefix("-") {
            if ["-h", "--help", "-help", "--version", "--generate-completion-script", "--experimental-dump-help"].contains(first)
                || arguments.contains(where: { verbs.contains($0) }) {
                return .parse(arguments)
            }
            if let word = arguments.first(where: { kapacitorVerbsNotYet[$0] != nil }) {
                return .refuse(notYet(word), status: usageStatus)
            }
            let takers = commands.filter { takes(first, $0, root: root) }.map { $0._commandName }
            var message = "tock: \(first) is an option of a verb, and no verb came before it: tock VERB [options] (`tock help` lists the verbs)"
            if !takers.isEmpty { message += "; \(first) is taken by: " + takers.joined(separator: ", ") }
            return .refuse(message, status: usageStatus)
        }
        if verbs.contains(first) { return .parse(arguments) }
        if kapacitorVerbsNotYet[first] != nil { return .refuse(notYet(first), status: usageStatus) }
        return .refuse(unknownVerb(first, verbs: verbs), status: usageStatus)
    }

    static func notYet(_ verb: String) -> String {
        "tock: `\(verb)` is a Kapacitor verb that Tock does not have yet: \(kapacitorVerbsNotYet[verb] ?? "")."
    }

    static func unknownVerb(_ word: String, verbs: [String]) -> String {
        var message = "tock: unknown verb '\(word)'."
        if let closest = closest(to: word, among: verbs) { message += " Did you mean '\(closest)'?" }
        return message + " (`tock help` lists the verbs.)"
    }

    /// Whether `command` accepts the option `option` (its help lists it).
    static func takes(_ option: String, _ command: any ParsableCommand.Type, root: any ParsableCommand.Type) -> Bool {
        optionNames(inHelp: root.helpMessage(for: command)).contains(option)
    }

    /// ArgumentParser's message for a parse error, with the closest option of the verb added to an "Unknown option"
    /// that has no suggestion (single-dash spellings such as `-tsk` get none from ArgumentParser).
    static func improved(_ message: String, arguments: [String], commands: [any ParsableCommand.Type],
                         root: any ParsableCommand.Type) -> String? {
        guard message.hasPrefix("Unknown option '"), !message.contains("Did you mean"),
              let verb = arguments.first, let command = commands.first(where: { $0._commandName == verb }) else { return nil }
        let unknown = String(message.dropFirst("Unknown option '".count).prefix { $0 != "'" })
        let options = optionNames(inHelp: root.helpMessage(for: command))
        guard let closest = closest(to: unknown, among: options) else { return nil }
        return "Unknown option '\(unknown)'. Did you mean '\(closest)'?"
    }

    /// The option spellings (`-task`, `--task`, `-h`) a help text lists in its OPTIONS section.
    static func optionNames(inHelp help: String) -> [String] {
        var names: [String] = []
        for line in help.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("-"), line.count - trimmed.count <= 4 else { continue }
            for token in trimmed.split(whereSeparator: { $0 == " " || $0 == "," }) {
                guard token.hasPrefix("-") else { break }
                names.append(String(token))
            }
        }
        return names
    }

    /// The candidate nearest to `word` by edit distance, when it is near enough to be a slip (at most a third
    /// of the word's letters, and at least one), ignoring leading dashes.
    static func closest(to word: String, among candidates: [String]) -> String? {
        func bare(_ s: String) -> String { String(s.drop { $0 == "-" }).lowercased() }
        let target = bare(word)
        let scored = candidates.map { ($0, distance(bare($0), target)) }
        guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0.count < $1.0.count) }) else { return nil }
        let allowed = max(1, target.count / 3)
        if best.1 <= allowed { return best.0 }
        // A word that is the start of exactly one candidate (`tock rec` for record).
        let prefixed = candidates.filter { bare($0).hasPrefix(target) && target.count >= 2 }
        return prefixed.count == 1 ? prefixed[0] : nil
    }

    /// Levenshtein distance, with a transposition of neighbours counted as one edit.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
