import TockModel

/// One InfluxQL function as Kapacitor exposes it (`pipeline/influxql.go`): what it emits and which
/// field types it accepts.
struct InfluxQLFunction: Sendable {
    enum Shape: Sendable {
        /// One value per window/batch (or per timestamp on a raw stream); emits a stream.
        case reduce
        /// Several values per window/batch (`distinct`, `top`, `bottom`, `holtWinters`); emits a batch.
        case batchReduce
        /// One value per point, per group (`difference`, `cumulativeSum`, …); emits what it receives.
        case streamTransformation
    }

    var name: String
    var shape: Shape
    /// A selector whose point keeps all its tags and fields (`first`, `last`, `min`, `max`, `percentile`).
    var isSimpleSelector = false
    /// Emits a value for an empty batch (`count` and `sum` emit 0).
    var isEmptyOK = false
    /// Always stamps values with their own time (`holtWinters`).
    var alwaysPointTimes = false
    /// Builds the state for a field of this type, or `nil` when the function does not apply to it.
    var make: @Sendable (ValueKind) -> (any Reducer)?

    var provides: Provides {
        switch shape {
        case .reduce: .stream
        case .batchReduce: .batch
        case .streamTransformation: .same
        }
    }
}

extension InfluxQLFunction {
    private static func numeric(_ kind: ValueKind) -> Bool { kind == .float || kind == .integer }

    static let count = InfluxQLFunction(name: "count", shape: .reduce, isEmptyOK: true) { kind in
        kind == .unsigned ? nil : CountReducer()
    }
    static let sum = InfluxQLFunction(name: "sum", shape: .reduce, isEmptyOK: true) { kind in
        numeric(kind) ? SumReducer(kind: kind) : nil
    }
    static let mean = InfluxQLFunction(name: "mean", shape: .reduce) { kind in
        numeric(kind) ? MeanReducer() : nil
    }
    static let median = InfluxQLFunction(name: "median", shape: .reduce) { kind in
        numeric(kind) ? SliceReducer(SliceFunctions.median) : nil
    }
    static let mode = InfluxQLFunction(name: "mode", shape: .reduce) { kind in
        numeric(kind) ? SliceReducer(SliceFunctions.mode) : nil
    }
    static let spread = InfluxQLFunction(name: "spread", shape: .reduce) { kind in
        numeric(kind) ? SliceReducer(SliceFunctions.spread) : nil
    }
    static let stddev = InfluxQLFunction(name: "stddev", shape: .reduce) { kind in
        numeric(kind) ? SliceReducer(SliceFunctions.stddev) : nil
    }
    static let first = InfluxQLFunction(name: "first", shape: .reduce, isSimpleSelector: true) { kind in
        kind == .unsigned ? nil : SelectorReducer.first()
    }
    static let last = InfluxQLFunction(name: "last", shape: .reduce, isSimpleSelector: true) { kind in
        kind == .unsigned ? nil : SelectorReducer.last()
    }
    static let min = InfluxQLFunction(name: "min", shape: .reduce, isSimpleSelector: true) { kind in
        numeric(kind) ? SelectorReducer.min() : nil
    }
    static let max = InfluxQLFunction(name: "max", shape: .reduce, isSimpleSelector: true) { kind in
        numeric(kind) ? SelectorReducer.max() : nil
    }
    static let distinct = InfluxQLFunction(name: "distinct", shape: .batchReduce) { kind in
        kind == .unsigned ? nil : SliceReducer(SelectorFunctions.distinct)
    }
    static let difference = InfluxQLFunction(name: "difference", shape: .streamTransformation) { kind in
        numeric(kind) ? DifferenceReducer() : nil
    }
    static let cumulativeSum = InfluxQLFunction(name: "cumulativeSum", shape: .streamTransformation) { kind in
        numeric(kind) ? CumulativeSumReducer() : nil
    }

    static func percentile(_ p: Double) -> InfluxQLFunction {
        InfluxQLFunction(name: "percentile", shape: .reduce, isSimpleSelector: true) { kind in
            numeric(kind) ? SliceReducer(SelectorFunctions.percentile(p)) : nil
        }
    }

    static func top(_ n: Int, keys: [String]) -> InfluxQLFunction {
        InfluxQLFunction(name: "top", shape: .batchReduce) { kind in
            numeric(kind) ? SliceReducer(SelectorFunctions.topBottom(n: n, keys: keys, top: true)) : nil
        }
    }

    static func bottom(_ n: Int, keys: [String]) -> InfluxQLFunction {
        InfluxQLFunction(name: "bottom", shape: .batchReduce) { kind in
            numeric(kind) ? SliceReducer(SelectorFunctions.topBottom(n: n, keys: keys, top: false)) : nil
        }
    }

    static func elapsed(unit: Int64) -> InfluxQLFunction {
        InfluxQLFunction(name: "elapsed", shape: .streamTransformation) { kind in
            kind == .unsigned ? nil : ElapsedReducer(unit: unit)
        }
    }

    static func movingAverage(_ n: Int) -> InfluxQLFunction {
        InfluxQLFunction(name: "movingAverage", shape: .streamTransformation) { kind in
            numeric(kind) ? MovingAverageReducer(size: n) : nil
        }
    }

    static func holtWinters(h: Int, m: Int, interval: Int64, includeFitData: Bool) -> InfluxQLFunction {
        InfluxQLFunction(name: "holtWinters", shape: .batchReduce, alwaysPointTimes: true) { kind in
            numeric(kind) ? HoltWintersReducer(h: h, m: m, interval: interval, includeFitData: includeFitData) : nil
        }
    }
}
