import Testing

/// The nodes that combine data against Kapacitor 1.8: `join.go` (`JoinIntoPoint`: prefixed fields, the first
/// parent's group tags, the rounded time), `union.go`, `flatten.go`, `combine.go` and `where.go` on batches.
@Suite("Conformance: join, union, flatten, combine")
struct CombiningConformance {
    static let twoSources = """
        var errors = stream
            |from()
                .measurement('errors')
        var requests = stream
            |from()
                .measurement('requests')

        """

    static let cases: [ConformanceCase] = [
        ConformanceCase(
            name: "join pairs points whose times round to the same multiple of the tolerance; name of the left parent",
            script: twoSources + "errors\n    |join(requests)\n        .as('errors', 'requests')\n        .tolerance(5s)\n",
            input: """
                requests value=10 0
                errors value=1 0
                errors value=2 10
                requests value=20 11
                """,
            expected: """
                errors errors.value=1.0,requests.value=10.0 0s
                errors errors.value=2.0,requests.value=20.0 10s
                """),
        ConformanceCase(
            name: "join .streamName() and .delimiter() name the output and its fields",
            script: twoSources + "errors\n    |join(requests)\n        .as('e', 'r')\n        .delimiter('_')\n        .streamName('rates')\n",
            input: "errors value=1 0\nrequests value=10 0",
            expected: "rates e_value=1.0,r_value=10.0 0s"),
        ConformanceCase(
            name: "union merges its parents in time order; .rename() renames the measurement",
            script: twoSources + "errors\n    |union(requests)\n        .rename('all')\n",
            input: "errors value=1 0\nrequests value=10 5\nerrors value=2 10\nrequests value=20 15",
            expected: "all value=1.0 0s\nall value=10.0 5s\nall value=2.0 10s\nall value=20.0 15s"),
        ConformanceCase(
            name: "flatten .on('host') names fields by host, emitting a time's points when a later time arrives",
            script: "stream\n    |from()\n        .measurement('cpu')\n    |flatten()\n        .on('host')\n",
            input: "cpu,host=a value=1 0\ncpu,host=b value=2 0\ncpu,host=a value=3 10",
            expected: "cpu a.value=1.0,b.value=2.0 0s"),
        ConformanceCase(
            name: "flatten .dropOriginalFieldName() leaves the field's name out",
            script: "stream\n    |from()\n        .measurement('cpu')\n    |flatten()\n        .on('host')\n        .dropOriginalFieldName()\n",
            input: "cpu,host=a value=1 0\ncpu,host=b value=2 0\ncpu,host=a value=3 10",
            expected: "cpu a=1.0,b=2.0 0s"),
        ConformanceCase(
            name: "combine: each combination in index order, each lambda taking the first unused matching point; tags prefixed, group tags kept too",
            script: """
                stream
                    |from()
                        .measurement('latency')
                        .groupBy('dc')
                    |combine(lambda: "service" == 'login', lambda: TRUE)
                        .as('login', 'other')
                        .delimiter('_')
                """,
            input: """
                latency,dc=x,service=login value=1 0
                latency,dc=x,service=auth value=2 0
                latency,dc=x,service=cart value=3 0
                latency,dc=x,service=login value=4 10
                """,
            // Pairs (0,1), (0,2), (1,2): the last has no login point. The 10s points wait for a later time.
            expected: """
                latency,dc=x,login_dc=x,login_service=login,other_dc=x,other_service=auth login_value=1.0,other_value=2.0 0s group(dc=x)
                latency,dc=x,login_dc=x,login_service=login,other_dc=x,other_service=cart login_value=1.0,other_value=3.0 0s group(dc=x)
                """),
        ConformanceCase(
            name: "where on a batch keeps the matching points and still emits a batch left empty",
            script: "stream\n    |from()\n    |window()\n        .period(10s)\n        .every(10s)\n        .align()\n    |where(lambda: \"value\" > 5.0)\n",
            input: "m value=1 0\nm value=9 5\nm value=2 10\nm value=3 20",
            expected: """
                batch m tmax=10s
                  m value=9.0 5s
                batch m tmax=20s
                """),
    ]

    @Test("join, union, flatten, where on batches", arguments: cases) func combining(_ c: ConformanceCase) throws { try Conformance.check(c) }
}
