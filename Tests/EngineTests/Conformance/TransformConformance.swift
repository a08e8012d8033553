import Testing

/// The transformation nodes against Kapacitor 1.8: `pipeline/derivative.go` (As defaults to the field),
/// `pipeline/influxql.go` (As defaults to the method name, `holtWintersWithFit` included as `holtWinters`),
/// `influxql.go`, `change_detect.go`, `shift.go`, `sample.go`.
@Suite("Conformance: transformations")
struct TransformConformance {
    /// Two points of host a in the aligned window [0s, 10s), closed by a third at 10s.
    static let window = """
        stream
            |from()
                .measurement('cpu')
                .groupBy('host')
            |window()
                .period(10s)
                .every(10s)
                .align()

        """
    static let twoPoints = """
        cpu,host=a value=1,other=7i 0
        cpu,host=a value=2,other=8i 5
        cpu,host=a value=9,other=9i 10
        """

    static let derivative: [ConformanceCase] = [
        ConformanceCase(
            name: "derivative('value') without .as() writes the rate to value, at the later point's time",
            script: "stream\n    |from()\n        .measurement('cpu')\n    |derivative('value')\n",
            input: "cpu value=10,n=1i 0\ncpu value=20,n=2i 10\ncpu value=15,n=3i 15",
            expected: "cpu n=2i,value=1.0 10s\ncpu n=3i,value=-1.0 15s"),
        ConformanceCase(
            name: "derivative .as() .unit(1m) .nonNegative(): a decrease emits nothing",
            script: "stream\n    |from()\n    |derivative('value')\n        .as('rate')\n        .unit(1m)\n        .nonNegative()\n",
            input: "cpu value=10 0\ncpu value=20 10\ncpu value=15 15",
            expected: "cpu rate=60.0,value=20.0 10s"),
        ConformanceCase(
            name: "derivative of a batch: per batch, the first point only primes it",
            script: "stream\n    |from()\n    |window()\n        .period(10s)\n        .every(10s)\n        .align()\n    |derivative('value')\n",
            input: "cpu value=1 0\ncpu value=3 2\ncpu value=8 4\ncpu value=0 10",
            expected: """
                batch cpu tmax=10s
                  cpu value=1.0 2s
                  cpu value=2.5 4s
                """),
        ConformanceCase(
            name: "derivative of an integer field is a float",
            script: "stream\n    |from()\n    |derivative('n')\n",
            input: "m n=1i 0\nm n=3i 4",
            expected: "m n=0.5 4s"),
    ]

    static let aggregates: [ConformanceCase] = [
        ConformanceCase(
            name: "mean: field mean, the window's group tags only, at the window's end",
            script: window + "    |mean('value')\n", input: twoPoints,
            expected: "cpu,host=a mean=1.5 10s group(host=a)"),
        ConformanceCase(
            name: "count is an integer",
            script: window + "    |count('value')\n", input: twoPoints,
            expected: "cpu,host=a count=2i 10s group(host=a)"),
        ConformanceCase(
            name: "sum of integers is an integer, of floats a float",
            script: window + "    |sum('other')\n", input: twoPoints,
            expected: "cpu,host=a sum=15i 10s group(host=a)"),
        ConformanceCase(
            name: "mean of integers is a float",
            script: window + "    |mean('other')\n        .as('avg')\n", input: twoPoints,
            expected: "cpu,host=a avg=7.5 10s group(host=a)"),
        ConformanceCase(
            name: "max is a selector: the selected point's fields and tags, value renamed, at the window's end",
            script: window + "    |max('value')\n", input: twoPoints,
            expected: "cpu,host=a max=2.0,other=8i 10s group(host=a)"),
        ConformanceCase(
            name: "a selector with .usePointTimes() carries the selected point's time",
            script: window + "    |first('value')\n        .usePointTimes()\n", input: twoPoints,
            expected: "cpu,host=a first=1.0,other=7i 0s group(host=a)"),
        ConformanceCase(
            name: "a selector .as() its own field keeps the field's name",
            script: window + "    |last('value')\n        .as('value')\n", input: twoPoints,
            expected: "cpu,host=a other=8i,value=2.0 10s group(host=a)"),
        ConformanceCase(
            name: "percentile selects a point (nearest rank, no interpolation)",
            script: window + "    |percentile('value', 50.0)\n", input: twoPoints,
            expected: "cpu,host=a other=7i,percentile=1.0 10s group(host=a)"),
        ConformanceCase(
            name: "top emits a batch of the best points in time order, at the window's end unless usePointTimes",
            script: window + "    |top(2, 'value')\n",
            input: "cpu,host=a value=2 0\ncpu,host=a value=1 2\ncpu,host=a value=3 4\ncpu,host=a value=0 10",
            expected: """
                batch cpu,host=a tmax=10s group(host=a)
                  cpu,host=a top=2.0 10s
                  cpu,host=a top=3.0 10s
                """),
        ConformanceCase(
            name: "spread and stddev default to their method names",
            script: window + "    |spread('value')\n", input: twoPoints,
            expected: "cpu,host=a spread=1.0 10s group(host=a)"),
    ]

    static let streamTransformations: [ConformanceCase] = [
        ConformanceCase(
            name: "difference defaults to the field difference, not the input field",
            script: "stream\n    |from()\n    |difference('value')\n",
            input: "cpu value=10 0\ncpu value=20 10\ncpu value=15 15",
            expected: "cpu difference=10.0 10s\ncpu difference=-5.0 15s"),
        ConformanceCase(
            name: "movingAverage defaults to movingAverage and waits for a full window",
            script: "stream\n    |from()\n    |movingAverage('value', 2)\n",
            input: "cpu value=10 0\ncpu value=20 10\ncpu value=15 15",
            expected: "cpu movingAverage=15.0 10s\ncpu movingAverage=17.5 15s"),
        ConformanceCase(
            name: "cumulativeSum defaults to cumulativeSum, one point per point",
            script: "stream\n    |from()\n    |cumulativeSum('value')\n",
            input: "cpu value=10 0\ncpu value=20 10\ncpu value=15 15",
            expected: "cpu cumulativeSum=10.0 0s\ncpu cumulativeSum=30.0 10s\ncpu cumulativeSum=45.0 15s"),
        ConformanceCase(
            name: "elapsed defaults to elapsed, an integer count of units",
            script: "stream\n    |from()\n    |elapsed('value', 1s)\n",
            input: "cpu value=10 0\ncpu value=20 10\ncpu value=15 15",
            expected: "cpu elapsed=10i 10s\ncpu elapsed=5i 15s"),
        ConformanceCase(
            name: "difference of integers is an integer, .as() renames it",
            script: "stream\n    |from()\n    |difference('n')\n        .as('d')\n",
            input: "m n=5i 0\nm n=3i 1",
            expected: "m d=-2i 1s"),
    ]

    static let filters: [ConformanceCase] = [
        ConformanceCase(
            name: "changeDetect passes the first point and each change; a point lacking the field is skipped and logged",
            script: "stream\n    |from()\n        .measurement('svc')\n    |changeDetect('state')\n",
            input: """
                svc state="up",n=0i 0
                svc n=1i 1
                svc state="up",n=2i 2
                svc state="down",n=3i 3
                """,
            expected: "svc n=0i,state=\"up\" 0s\nsvc n=3i,state=\"down\" 3s",
            logs: ["expected field state not found"]),
        ConformanceCase(
            name: "changeDetect on several fields: a change of any one passes the point",
            script: "stream\n    |from()\n    |changeDetect('a', 'b')\n",
            input: "m a=1i,b=1i 0\nm a=1i,b=1i 1\nm a=1i,b=2i 2\nm a=2i,b=2i 3",
            expected: "m a=1i,b=1i 0s\nm a=1i,b=2i 2s\nm a=2i,b=2i 3s"),
        ConformanceCase(
            name: "shift moves each point's time, backwards too",
            script: "stream\n    |from()\n    |shift(-5s)\n",
            input: "m v=1i 10",
            expected: "m v=1i 5s"),
        ConformanceCase(
            name: "sample(2) keeps the first and every second point",
            script: "stream\n    |from()\n    |sample(2)\n",
            input: "m v=1i 0\nm v=2i 1\nm v=3i 2\nm v=4i 3",
            expected: "m v=1i 0s\nm v=3i 2s"),
    ]

    @Test("derivative", arguments: derivative) func derivativeNode(_ c: ConformanceCase) throws { try Conformance.check(c) }
    @Test("InfluxQL aggregates and selectors", arguments: aggregates) func aggregate(_ c: ConformanceCase) throws { try Conformance.check(c) }
    @Test("InfluxQL stream transformations", arguments: streamTransformations) func transformation(_ c: ConformanceCase) throws { try Conformance.check(c) }
    @Test("changeDetect, shift, sample", arguments: filters) func filter(_ c: ConformanceCase) throws { try Conformance.check(c) }
}
