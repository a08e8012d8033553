import Testing

/// The core nodes against Kapacitor 1.8: `from.go`/`pipeline/from.go`, `where.go`, `eval.go`, `default.go`,
/// `delete.go`, `group_by.go`, `window.go`, `state_tracking.go`.
@Suite("Conformance: core nodes")
struct CoreConformance {
    static let from: [ConformanceCase] = [
        ConformanceCase(
            name: "from().where() given twice keeps the points matching both (pipeline/from.go ANDs them)",
            script: """
                stream
                    |from()
                        .measurement('cpu')
                        .where(lambda: "value" > 1)
                        .where(lambda: "host" == 'a')
                """,
            input: """
                cpu,host=a value=1 0
                cpu,host=a value=2 1
                cpu,host=b value=3 2
                mem,host=a value=4 3
                """,
            expected: "cpu,host=a value=2.0 1s"),
        ConformanceCase(
            name: "from().groupBy() groups by the named tags; the point keeps all its tags",
            script: "stream\n    |from()\n        .measurement('cpu')\n        .groupBy('host')\n",
            input: "cpu,dc=x,host=a value=1 0",
            expected: "cpu,dc=x,host=a value=1.0 0s group(host=a)"),
        ConformanceCase(
            name: "from().groupByMeasurement() puts the measurement in the group",
            script: "stream\n    |from()\n        .groupBy('host')\n        .groupByMeasurement()\n",
            input: "cpu,host=a value=1 0",
            expected: "cpu,host=a value=1.0 0s group(cpu;host=a)"),
        ConformanceCase(
            name: "from().truncate() moves each point's time down to a multiple",
            script: "stream\n    |from()\n        .truncate(10s)\n",
            input: "cpu value=1 17",
            expected: "cpu value=1.0 10s"),
    ]

    static let eval: [ConformanceCase] = [
        ConformanceCase(
            name: "eval without keep leaves only the computed fields",
            script: "stream\n    |from()\n    |eval(lambda: \"value\" * 2.0)\n        .as('double')\n",
            input: "cpu,host=a value=3,other=1i 0",
            expected: "cpu,host=a double=6.0 0s"),
        ConformanceCase(
            name: "a later lambda sees an earlier result by its name",
            script: "stream\n    |from()\n    |eval(lambda: \"value\" * 2.0, lambda: \"double\" + 1.0)\n        .as('double', 'next')\n",
            input: "cpu value=3 0",
            expected: "cpu double=6.0,next=7.0 0s"),
        ConformanceCase(
            name: "a result named as a field of the point: later lambdas still see the point's value (eval.go fillScope)",
            script: "stream\n    |from()\n    |eval(lambda: \"value\" * 2.0, lambda: \"value\" + 1.0)\n        .as('value', 'next')\n",
            input: "cpu value=3 0",
            expected: "cpu next=4.0,value=6.0 0s"),
        ConformanceCase(
            name: "eval .tags(): the result becomes a tag and, without keep, no field is left",
            script: "stream\n    |from()\n    |eval(lambda: string(\"code\"))\n        .as('code_tag')\n        .tags('code_tag')\n",
            input: "req,host=a code=200i 0",
            expected: "req,code_tag=200,host=a 0s"),
        ConformanceCase(
            name: "eval .tags().keep(): every field of the point plus every result, the tag's too",
            script: "stream\n    |from()\n    |eval(lambda: string(\"code\"))\n        .as('code_tag')\n        .tags('code_tag')\n        .keep()\n",
            input: "req,host=a code=200i 0",
            expected: "req,code_tag=200,host=a code=200i,code_tag=\"200\" 0s"),
        ConformanceCase(
            name: "eval .tags().keep(names): only the named fields, from the results or the point",
            script: "stream\n    |from()\n    |eval(lambda: string(\"code\"), lambda: \"code\" * 2)\n        .as('code_tag', 'twice')\n        .tags('code_tag')\n        .keep('code', 'twice')\n",
            input: "req,host=a code=200i,size=5i 0",
            expected: "req,code_tag=200,host=a code=200i,twice=400i 0s"),
        ConformanceCase(
            name: "a repeated keep() replaces the earlier list, as in Kapacitor",
            script: "stream\n    |from()\n    |eval(lambda: \"a\" + \"b\")\n        .as('sum')\n        .keep('a')\n        .keep('b')\n",
            input: "m a=1i,b=2i 0",
            expected: "m b=2i 0s"),
        ConformanceCase(
            name: "eval .tags() with no names: every result is a field",
            script: "stream\n    |from()\n    |eval(lambda: \"value\" * 2.0)\n        .as('double')\n        .tags()\n",
            input: "cpu value=3 0",
            expected: "cpu double=6.0 0s"),
        ConformanceCase(
            name: "a tag expression that is not a string drops the point with Kapacitor's error",
            script: "stream\n    |from()\n    |eval(lambda: \"value\")\n        .as('v')\n        .tags('v')\n",
            input: "cpu value=3 0\n",
            expected: "",
            logs: ["result of a tag expression must be of type string, got float64"]),
        ConformanceCase(
            name: "keeping a field that does not exist drops the point",
            script: "stream\n    |from()\n    |eval(lambda: \"value\")\n        .as('v')\n        .keep('missing')\n",
            input: "cpu value=3 0\n",
            expected: "",
            logs: ["cannot keep field \"missing\", field does not exist"]),
    ]

    static let defaultAndDelete: [ConformanceCase] = [
        ConformanceCase(
            name: "default().tag() fills a missing tag and an empty one; a grouped tag regroups",
            script: """
                stream
                    |from()
                        .measurement('cpu')
                    |eval(lambda: if("value" > 5.0, 'big', ''))
                        .as('size')
                        .tags('size')
                        .keep('value')
                    |groupBy('size')
                    |default()
                        .tag('size', 'small')
                        .tag('host', 'unknown')
                        .field('extra', 0)
                """,
            input: """
                cpu,host=a value=1 0
                cpu value=9 1
                """,
            expected: """
                cpu,host=a,size=small extra=0i,value=1.0 0s group(size=small)
                cpu,host=unknown,size=big extra=0i,value=9.0 1s group(size=big)
                """),
        ConformanceCase(
            name: "default().field() leaves a present field alone",
            script: "stream\n    |from()\n    |default()\n        .field('value', 0.0)\n",
            input: "cpu value=3 0\ncpu other=1i 1",
            expected: "cpu value=3.0 0s\ncpu other=1i,value=0.0 1s"),
        ConformanceCase(
            name: "delete().tag() of a group-by tag regroups the points without it",
            script: "stream\n    |from()\n        .groupBy('host', 'dc')\n    |delete()\n        .tag('host')\n        .field('junk')\n",
            input: "cpu,dc=x,host=a value=1,junk=2 0",
            expected: "cpu,dc=x value=1.0 0s group(dc=x)"),
        ConformanceCase(
            name: "delete().tag() of a group-by tag regroups a batch without it",
            script: """
                stream
                    |from()
                        .groupBy('host', 'dc')
                    |window()
                        .period(10s)
                        .every(10s)
                        .align()
                    |delete()
                        .tag('host')
                """,
            input: "cpu,dc=x,host=a value=1 0\ncpu,dc=x,host=a value=2 10",
            expected: """
                batch cpu,dc=x tmax=10s group(dc=x)
                  cpu,dc=x value=1.0 0s
                """),
    ]

    static let grouping: [ConformanceCase] = [
        ConformanceCase(
            name: "groupBy after a window regroups each batch and holds it until a batch of another time begins",
            script: """
                stream
                    |from()
                        .measurement('cpu')
                    |window()
                        .period(10s)
                        .every(10s)
                        .align()
                    |groupBy('host')
                """,
            input: """
                cpu,host=a value=1 0
                cpu,host=b value=2 3
                cpu,host=a value=3 6
                cpu value=4 10
                cpu value=5 20
                """,
            // The window [10s, 20s) (tmax 20s) is still held when the input ends.
            expected: """
                batch cpu,host=a tmax=10s group(host=a)
                  cpu,host=a value=1.0 0s
                  cpu,host=a value=3.0 6s
                batch cpu,host=b tmax=10s group(host=b)
                  cpu,host=b value=2.0 3s
                """),
        ConformanceCase(
            name: "groupBy merges batches of the same time into one batch per new group, sorted by time",
            script: """
                stream
                    |from()
                        .measurement('cpu')
                        .groupBy('dc')
                    |window()
                        .period(10s)
                        .every(10s)
                        .align()
                    |groupBy('host')
                """,
            input: """
                cpu,dc=x,host=a value=1 5
                cpu,dc=y,host=a value=2 2
                cpu,dc=x value=3 10
                cpu,dc=y value=4 10
                cpu,dc=x value=5 20
                """,
            expected: """
                batch cpu,host=a tmax=10s group(host=a)
                  cpu,dc=y,host=a value=2.0 2s
                  cpu,dc=x,host=a value=1.0 5s
                """),
        ConformanceCase(
            name: "groupBy keeps a grouping by measurement made upstream",
            script: "stream\n    |from()\n        .groupByMeasurement()\n    |groupBy('host')\n",
            input: "cpu,dc=x,host=a value=1 0",
            expected: "cpu,dc=x,host=a value=1.0 0s group(cpu;host=a)"),
        ConformanceCase(
            name: "groupBy(*).exclude() groups points by every tag but the excluded",
            script: "stream\n    |from()\n    |groupBy(*)\n        .exclude('dc')\n",
            input: "cpu,dc=x,host=a,region=r value=1 0",
            expected: "cpu,dc=x,host=a,region=r value=1.0 0s group(host=a,region=r)"),
    ]

    static let windows: [ConformanceCase] = [
        ConformanceCase(
            name: "an aligned tumbling window emits [start, end) with tmax = end, when a point reaches the end",
            script: "stream\n    |from()\n    |window()\n        .period(10s)\n        .every(10s)\n        .align()\n",
            input: "m v=1i 3\nm v=2i 9\nm v=3i 10\nm v=4i 25",
            expected: """
                batch m tmax=10s
                  m v=1i 3s
                  m v=2i 9s
                batch m tmax=20s
                  m v=3i 10s
                """),
        ConformanceCase(
            name: "an unaligned sliding window: the first ends at the first point + every, later ones at the closing point + every",
            script: "stream\n    |from()\n    |window()\n        .period(10s)\n        .every(5s)\n",
            input: "m v=0i 0\nm v=3i 3\nm v=6i 6\nm v=9i 9\nm v=12i 12\nm v=16i 16",
            expected: """
                batch m tmax=5s
                  m v=0i 0s
                  m v=3i 3s
                batch m tmax=11s
                  m v=3i 3s
                  m v=6i 6s
                  m v=9i 9s
                """),
        ConformanceCase(
            name: "a window without every emits (t - period, t] at every point",
            script: "stream\n    |from()\n    |window()\n        .period(10s)\n",
            input: "m v=0i 0\nm v=5i 5\nm v=12i 12",
            expected: """
                batch m tmax=0s
                  m v=0i 0s
                batch m tmax=5s
                  m v=0i 0s
                  m v=5i 5s
                batch m tmax=12s
                  m v=5i 5s
                  m v=12i 12s
                """),
        ConformanceCase(
            name: "fillPeriod: the first window waits for a whole period",
            script: "stream\n    |from()\n    |window()\n        .period(10s)\n        .every(5s)\n        .fillPeriod()\n",
            input: "m v=0i 0\nm v=3i 3\nm v=6i 6\nm v=9i 9\nm v=12i 12",
            expected: """
                batch m tmax=10s
                  m v=0i 0s
                  m v=3i 3s
                  m v=6i 6s
                  m v=9i 9s
                """),
        ConformanceCase(
            name: "a count window emits the last periodCount points every everyCount points, tmax the last point's time",
            script: "stream\n    |from()\n    |window()\n        .periodCount(2)\n        .everyCount(2)\n",
            input: "m v=1i 1\nm v=2i 2\nm v=3i 3\nm v=4i 4\nm v=5i 5",
            expected: """
                batch m tmax=2s
                  m v=1i 1s
                  m v=2i 2s
                batch m tmax=4s
                  m v=3i 3s
                  m v=4i 4s
                """),
    ]

    static let state: [ConformanceCase] = [
        ConformanceCase(
            name: "stateDuration adds state_duration (float, in units of 1s); -1 while false",
            script: "stream\n    |from()\n    |stateDuration(lambda: \"value\" > 5.0)\n",
            input: "m value=6 0\nm value=7 2\nm value=3 3\nm value=8 5",
            expected: """
                m state_duration=0.0,value=6.0 0s
                m state_duration=2.0,value=7.0 2s
                m state_duration=-1.0,value=3.0 3s
                m state_duration=0.0,value=8.0 5s
                """),
        ConformanceCase(
            name: "stateCount adds state_count (int); .as() renames it",
            script: "stream\n    |from()\n    |stateCount(lambda: \"value\" > 5.0)\n        .as('n')\n",
            input: "m value=6 0\nm value=7 2\nm value=3 3\nm value=8 5",
            expected: """
                m n=1i,value=6.0 0s
                m n=2i,value=7.0 2s
                m n=-1i,value=3.0 3s
                m n=1i,value=8.0 5s
                """),
    ]

    @Test("from", arguments: from) func fromNode(_ c: ConformanceCase) throws { try Conformance.check(c) }
    @Test("eval", arguments: eval) func evalNode(_ c: ConformanceCase) throws { try Conformance.check(c) }
    @Test("default and delete", arguments: defaultAndDelete) func defaultDelete(_ c: ConformanceCase) throws { try Conformance.check(c) }
    @Test("groupBy", arguments: grouping) func groupBy(_ c: ConformanceCase) throws { try Conformance.check(c) }
    @Test("window", arguments: windows) func window(_ c: ConformanceCase) throws { try Conformance.check(c) }
    @Test("stateDuration and stateCount", arguments: state) func stateNodes(_ c: ConformanceCase) throws { try Conformance.check(c) }
}
