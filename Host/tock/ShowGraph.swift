import Alerting
import ArgumentParser
import Engine
import Foundation
import PluginHost
import Report
import TICKScript

/// `tock show-graph`: the task's pipeline as Graphviz DOT, as `kapacitor show` prints it, or as SVG.
struct ShowGraph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show-graph",
        abstract: "Check a TICKscript and print its pipeline as a DOT graph (or, with --svg, as an SVG picture).")

    @Argument(help: "The TICKscript ('-' for standard input).")
    var script: String

    @Flag(name: [.customLong("svg"), .customLong("svg", withSingleDash: true)],
          help: "Print the graph as SVG (drawn by Tock, no Graphviz needed), not DOT.")
    var svg = false

    @Option(name: [.customLong("config"), .customLong("config", withSingleDash: true)],
            help: "A kapacitor.conf-style file whose [udf.functions.NAME] tables define the script's @NAME() UDFs (each is started to ask for its options, as at define).")
    var config: String?

    func run() throws {
        let source = try readText(script)
        let name = script == "-" ? "task" : URL(fileURLWithPath: script).deletingPathExtension().lastPathComponent
        var udfs: UDFRegistry?
        if let config {
            do {
                udfs = try UDFRegistry(configurationFile: config)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        defer { udfs?.terminateAll() }
        do {
            let dot = try Self.dot(of: source, name: name, udfs: udfs)
            if svg {
                print(try GraphPicture.svg(dot: dot, of: name), terminator: "")
            } else {
                print(dot, terminator: "")
            }
        } catch let error as ScriptError {
            Stderr.write(error.rendered(source: source) + "\n")
            throw ExitCode(2)
        }
    }
}

extension ShowGraph {
    /// The DOT of `source`'s pipeline, checked and built as `tock define` would, without counters.
    static func dot(of source: String, name: String, udfs: UDFRegistry? = nil) throws -> String {
        var builder = TaskBuilder(taskID: name, udfProvider: udfs)
        builder.alertService = try? AlertingService()
        return try builder.build(try Program.parse(source)).dot(name: name)
    }
}

/// The pipeline graph of `show --svg`, `show-template --svg` and `show-graph --svg`: the DOT the API returns,
/// read and drawn by the `Report` module.
enum GraphPicture {
    static func svg(dot: String, of what: String) throws -> String {
        guard !dot.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("the server sent no DOT graph for \(what)")
        }
        do {
            return try DOTGraph(parsing: dot).svg()
        } catch {
            throw ValidationError("cannot read the DOT graph of \(what): \(error)")
        }
    }
}
