import TockModel

/// The script side of the InfluxQL functions: `|mean('value')`, `|top(3, 'value', 'host')`, ….
enum InfluxQLSpecs {
    static let properties = [PropertySpec("as", Signature([.string])), PropertySpec("usePointTimes")]

    /// A function node; `fieldIndex` is the position of the field argument (1 for `top`/`bottom`).
    static func spec(
        _ name: String, _ arguments: Signature, provides: Provides, fieldIndex: Int = 0,
        function: @escaping @Sendable (NodeConfiguration) throws -> InfluxQLFunction
    ) -> NodeSpec {
        NodeSpec(name: name, arguments: arguments, properties: properties, wants: nil, provides: provides) { config in
            guard let field = config.stringArgument(fieldIndex) else {
                throw NodeConfigurationError("\(name) needs the name of a field")
            }
            let fn = try function(config)
            return InfluxQLNode(
                function: fn, field: field, as: config.string("as"), pointTimes: config.has("usePointTimes"),
                outputType: config.outputType(fn.provides))
        }
    }

    static func simple(_ fn: InfluxQLFunction) -> NodeSpec {
        spec(fn.name, Signature([.string]), provides: fn.provides) { _ in fn }
    }

    static let specs: [NodeSpec] = [
        simple(.count), simple(.distinct), simple(.mean), simple(.median), simple(.mode), simple(.spread),
        simple(.sum), simple(.stddev), simple(.first), simple(.last), simple(.min), simple(.max),
        simple(.difference), simple(.cumulativeSum),
        spec("percentile", Signature([.string, .number]), provides: .stream) { config in
            let p: Double
            switch config.arguments.count > 1 ? config.arguments[1] : nil {
            case .float(let f)?: p = f
            case .int(let i)?: p = Double(i)
            default: throw NodeConfigurationError("percentile needs a number between 0 and 100")
            }
            guard p >= 0, p <= 100 else { throw NodeConfigurationError("percentile needs a number between 0 and 100, got \(p)") }
            return .percentile(p)
        },
        spec("top", Signature([.int, .string], variadic: .string), provides: .batch, fieldIndex: 1) { config in
            guard let n = config.intArgument(0), n > 0 else { throw NodeConfigurationError("top needs a positive number of points") }
            return .top(Int(n), keys: config.stringArguments(from: 2))
        },
        spec("bottom", Signature([.int, .string], variadic: .string), provides: .batch, fieldIndex: 1) { config in
            guard let n = config.intArgument(0), n > 0 else { throw NodeConfigurationError("bottom needs a positive number of points") }
            return .bottom(Int(n), keys: config.stringArguments(from: 2))
        },
        spec("elapsed", Signature([.string, .duration]), provides: .same) { config in
            guard let unit = config.durationArgument(1), unit > 0 else {
                throw NodeConfigurationError("elapsed needs a positive unit duration")
            }
            return .elapsed(unit: unit)
        },
        spec("movingAverage", Signature([.string, .int]), provides: .same) { config in
            guard let n = config.intArgument(1), n > 0 else {
                throw NodeConfigurationError("movingAverage needs a positive number of points")
            }
            return .movingAverage(Int(n))
        },
        holtWinters("holtWinters", includeFitData: false),
        holtWinters("holtWintersWithFit", includeFitData: true),
    ]

    static func holtWinters(_ name: String, includeFitData: Bool) -> NodeSpec {
        spec(name, Signature([.string, .int, .int, .duration]), provides: .batch) { config in
            guard let h = config.intArgument(1), let m = config.intArgument(2), let interval = config.durationArgument(3),
                interval > 0
            else {
                throw NodeConfigurationError("\(name) needs a field, h, m and a positive interval")
            }
            return .holtWinters(h: Int(h), m: Int(m), interval: interval, includeFitData: includeFitData)
        }
    }
}
