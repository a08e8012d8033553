import Testing
import TICKScript
import TockModel
@testable import Engine

@Suite("Stream routes: a write reaches each task as Kapacitor forks it, by database, retention policy and measurement")
struct StreamRouteTests {
    func runner(_ script: String) throws -> (Collector, TaskRunner) {
        let c = Collector()
        var options = TaskRunner.Options(taskID: "route")
        options.alertService = TestAlerting.service
        let runner = try TaskRunner(script: script, options: options, handlers: c.handlers)
        try runner.start()
        return (c, runner)
    }

    @Test("the measurements a task reads: its from() nodes' .measurement(), or every one when a from() has none")
    func streamMeasurements() throws {
        func measurements(_ script: String) throws -> Set<String>? {
            var builder = TaskBuilder(taskID: "t")
            builder.alertService = TestAlerting.service
            return try builder.build(try Program.parse(script)).streamMeasurements
        }
        #expect(try measurements("stream|from().measurement('cpu')|log()") == ["cpu"])
        #expect(try measurements("""
            var c = stream|from().measurement('cpu')
            var m = stream|from().measurement('mem')
            c|join(m).as('c', 'm')|log()
            """) == ["cpu", "mem"])
        #expect(try measurements("stream|from().where(lambda: \"host\" == 'a')|log()") == nil)
        #expect(try measurements("""
            var c = stream|from().measurement('cpu')
            var all = stream|from()
            c|union(all)|log()
            """) == nil)
    }

    @Test("each task gets the points of its measurements in their order, a task of every measurement gets them all, and stream0 counts what it was handed")
    func routesByMeasurement() throws {
        let (cpu, cpuTask) = try runner("stream|from().measurement('cpu')|log()")
        let (mem, memTask) = try runner("stream|from().measurement('mem')|log()")
        let (both, bothTask) = try runner("""
            stream|from().measurement('cpu')|log()
            stream|from().measurement('mem')|log()
            """)
        let (all, allTask) = try runner("stream|from()|log()")
        let route = StreamRoute([cpuTask, memTask, bothTask, allTask])
        let names = ["cpu", "mem", "disk", "cpu", "cpu", "mem", "net"]
        let points = names.enumerated().map { i, name in point(name, [:], ["value": .double(Double(i))], at: Int64(i)) }
        route.write(points)
        route.write(Array(points.prefix(1)))
        for task in [cpuTask, memTask, bothTask, allTask] { try task.stop() }

        func seen(_ c: Collector) -> [String] { c.points.map { "\($0.name)@\($0.time / second)" } }
        #expect(seen(cpu) == ["cpu@0", "cpu@3", "cpu@4", "cpu@0"])
        #expect(seen(mem) == ["mem@1", "mem@5"])
        #expect(seen(both) == ["cpu@0", "mem@1", "cpu@3", "cpu@4", "mem@5", "cpu@0"])
        #expect(seen(all) == names.enumerated().map { "\($1)@\($0)" } + ["cpu@0"])
        #expect(cpuTask.stats()[0].received == 4)
        #expect(memTask.stats()[0].received == 2)
        #expect(allTask.stats()[0].received == 8)
    }

    @Test("an empty route and a write of no points do nothing")
    func empty() throws {
        StreamRoute.empty.write([point("cpu", [:], ["value": .double(1)], at: 1)])
        let (cpu, task) = try runner("stream|from().measurement('cpu')|log()")
        StreamRoute([task]).write([])
        try task.stop()
        #expect(cpu.points.isEmpty)
    }
}
