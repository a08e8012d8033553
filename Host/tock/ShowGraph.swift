import Alerting
import ArgumentParser
import Engine
import Foundation
import TICKScript

/// `tock show-graph`: the task's pipeline as Graphviz DOT, as `kapacitor show` prints it.
struct ShowGraph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show-graph",
        abstract: "Check a TICKscript and print its pipeline as a DOT graph.")

    @Argument(help: "The TICKscript ('-' for standard input).")
    var script: String

    func run() throws {
        let source = try readText(script)
        let name = script == "-" ? "task" : URL(fileURLWithPath: script).deletingPathExtension().lastPathComponent
        do {
            var builder = TaskBuilder(taskID: name)
            builder.alertService = try? AlertingService()
            let pipeline = try builder.build(try Program.parse(source))
            print(pipeline.dot(name: name), terminator: "")
        } catch let error as ScriptError {
            Stderr.write(error.rendered(source: source) + "\n")
            throw ExitCode(2)
        }
    }
}
