import Engine
import Foundation
import PluginHost
import Testing
import TockModel

/// A UDF that wants batches, fed by a batch task's `query()` node.
@Suite("batch task into a batch UDF")
struct BatchTaskUDFTests {
    @Test("outliers after query(): each recorded batch comes back with only its outliers")
    func outliersAfterQuery() throws {
        let registry = UDFRegistry(configuration: try UDFConfiguration.parse(
            Repo.pythonUDF("outliers", script: Repo.path("SampleUDFs/outliers.py"))))
        let collected = Collected()
        var options = TaskRunner.Options(taskID: "o", udfProvider: registry)
        options.batchSourceMode = .recorded
        let runner = try TaskRunner(
            script: """
            batch
              |query('SELECT value FROM db.rp.cpu').period(1m).every(1m).groupBy('host')
              @outliers().field('value').scale(1.5)
            """,
            options: options, handlers: .init(output: { _, message in collected.append(message) }))
        try runner.start()
        let values: [Double] = [5, 1, 100, 2, 3, 4, 6, 7, 8]
        let batch = Batch(name: "cpu", group: GroupID("host=a"), tags: ["host": "a"], dimensions: Dimensions(tagNames: ["host"]),
                          tmax: 100, points: values.enumerated().map { i, v in
                              BatchPoint(time: Int64(i), fields: ["value": .double(v)], tags: ["host": "a"])
                          })
        runner.feed([batch], toQuery: 0)
        try runner.stop()
        let batches = collected.messages.compactMap { if case .batch(let b) = $0 { return b } else { return nil } }
        #expect(batches.count == 1)
        #expect(batches.first?.points.map { $0.fields["value"] } == [.double(100)])
        #expect(batches.first?.group == GroupID("host=a"))
    }
}
