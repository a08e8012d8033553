import TockModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `holtWinters(field, h, m, interval)` and `holtWintersWithFit`: InfluxQL's Holt-Winters forecast
/// (additive trend, multiplicative seasonality of period `m`, damped), fitted by Nelder-Mead from a
/// grid of starting guesses, exactly as InfluxDB's `FloatHoltWintersReducer` does.
final class HoltWintersReducer: Reducer {
    let h: Int
    let m: Int
    let seasonal: Bool
    let includeFitData: Bool
    let interval: Int64
    let halfInterval: Int64
    private var points: [(time: Timestamp, value: Double)] = []
    private var y: [Double] = []

    init(h: Int, m: Int, interval: Int64, includeFitData: Bool) {
        self.h = h
        self.m = m
        self.seasonal = m >= 2
        self.includeFitData = includeFitData
        self.interval = interval
        self.halfInterval = interval / 2
    }

    func aggregate(_ point: ReducerInput) {
        points.append((point.time, point.value.asDouble))
    }

    private func roundTime(_ t: Int64) -> Int64 {
        let remainder = t % interval
        if remainder > halfInterval { return (t / interval + 1).saturatingMultiply(interval) }
        return (t / interval) * interval
    }

    func emit() -> [Reduced] {
        guard interval > 0 else { return [] }
        let l = points.count
        if l < 2 || (seasonal && l < m) || h <= 0 { return [] }
        let start = roundTime(points[0].time), stop = roundTime(points[l - 1].time)
        if (stop - start) / interval <= 0 { return [] }
        y = [points[0].value]
        var t = start
        for p in points.dropFirst() {
            let rounded = roundTime(p.time)
            if rounded <= t { continue }
            t += interval
            while rounded != t {
                y.append(.nan)
                t += interval
            }
            y.append(p.value)
        }

        var l0 = 0.0
        if seasonal {
            for i in 0..<m where !y[i].isNaN { l0 += (1 / Double(m)) * y[i] }
        } else {
            l0 += 0.5 * y[0]
        }
        var b0 = 0.0
        if seasonal {
            var i = 0
            while i < m && m + i < y.count {
                if !y[i].isNaN && !y[m + i].isNaN { b0 += 1 / Double(m * m) * (y[m + i] - y[i]) }
                i += 1
            }
        } else if !y[1].isNaN {
            b0 = 0.5 * (y[1] - y[0])
        }
        var s: [Double] = []
        if seasonal {
            s = (0..<m).map { y[$0].isNaN ? 0 : y[$0] / l0 }
        }
        var parameters = [Double](repeating: 0, count: 6 + s.count)
        parameters[4] = l0
        parameters[5] = b0
        for i in s.indices { parameters[6 + i] = s[i] }

        var minSSE = Double.infinity
        var bestParams: [Double]?
        let guesses = stride(from: 0.3, to: 1.0, by: 0.4).map { $0 }
        for alpha in guesses {
            for beta in guesses {
                for gamma in guesses {
                    for phi in guesses {
                        parameters[0] = alpha
                        parameters[1] = beta
                        parameters[2] = gamma
                        parameters[3] = phi
                        let (sse, params) = NelderMead.optimize(parameters, epsilon: 1e-4, scale: 1) { self.sse(&$0) }
                        if sse < minSSE || bestParams == nil {
                            minSSE = sse
                            bestParams = params
                        }
                    }
                }
            }
        }

        var best = bestParams!
        let forecasted = forecast(h, &best)
        var out: [Reduced] = []
        if includeFitData {
            let first = points[0].time
            for (i, v) in forecasted.enumerated() where !v.isNaN {
                out.append(Reduced(time: first.saturatingAdd(interval.saturatingMultiply(Int64(i))), value: .double(v)))
            }
        } else {
            let last = points[l - 1].time
            for (i, v) in forecasted[y.count...].enumerated() where !v.isNaN {
                out.append(Reduced(time: last.saturatingAdd(interval.saturatingMultiply(Int64(i + 1))), value: .double(v)))
            }
        }
        return out
    }

    /// Clamps alpha, beta, gamma and phi to [0, 1], in place as InfluxDB does (the optimizer sees it).
    private func constrain(_ x: inout [Double]) {
        for i in 0..<4 { x[i] = Swift.min(1, Swift.max(0, x[i])) }
    }

    /// The fitted series followed by `h` forecast values. Mutates `params` like the Go original.
    private func forecast(_ h: Int, _ params: inout [Double]) -> [Double] {
        constrain(&params)
        var yT = y[0]
        let phi = params[3]
        var phiH = phi
        var lT = params[4]
        var bT = params[5]
        let mm = seasonal ? params.count - 6 : 0
        if seasonal && mm == 1 { params[6] = 1 }
        var so = seasonal ? mm - 1 : 0
        var forecasted = [Double](repeating: 0, count: y.count + h)
        forecasted[0] = yT
        var stm = 1.0, stmh = 1.0
        for t in 1..<(y.count + h) {
            if seasonal {
                let hm = t % mm
                stm = params[6 + (t - mm + so) % mm]
                stmh = params[6 + (t - mm + hm + so) % mm]
            }
            let alpha = params[0], beta = params[1], gamma = params[2]
            let lTp = lT, bTp = bT
            lT = alpha * (yT / stm) + (1 - alpha) * (lTp + phi * bTp)
            bT = beta * (lT - lTp) + (1 - beta) * phi * bTp
            let sT = gamma * (yT / (lTp + phi * bTp)) + (1 - gamma) * stm
            yT = (lT + phiH * bT) * stmh
            phiH += pow(phi, Double(t))
            if seasonal {
                params[6 + (t + so) % mm] = sT
                so += 1
            }
            forecasted[t] = yT
        }
        return forecasted
    }

    private func sse(_ params: inout [Double]) -> Double {
        var sse = 0.0
        let forecasted = forecast(0, &params)
        for i in forecasted.indices where !y[i].isNaN {
            if forecasted[i].isNaN { return .infinity }
            let diff = forecasted[i] - y[i]
            sse += diff * diff
        }
        return sse
    }
}

/// The Nelder-Mead simplex minimizer InfluxDB uses for Holt-Winters (after Michael F. Hutt).
/// The objective may modify the vertex it is given, as InfluxDB's does.
enum NelderMead {
    static func optimize(
        _ start: [Double], epsilon: Double, scale: Double, maxIterations: Int = 1000,
        _ objective: (inout [Double]) -> Double
    ) -> (Double, [Double]) {
        let n = start.count
        let alpha = 1.0, beta = 0.5, gamma = 2.0
        var v = [[Double]](repeating: [Double](repeating: 0, count: n), count: n + 1)
        var f = [Double](repeating: 0, count: n + 1)
        var vr = [Double](repeating: 0, count: n), ve = vr, vc = vr, vm = vr
        let pn = scale * ((Double(n + 1)).squareRoot() - 1 + Double(n)) / (Double(n) * 2.0.squareRoot())
        let qn = scale * ((Double(n + 1)).squareRoot() - 1) / (Double(n) * 2.0.squareRoot())
        v[0] = start
        for i in 1...n {
            for j in 0..<n { v[i][j] = (i - 1 == j ? pn : qn) + start[j] }
        }
        for j in 0...n { f[j] = objective(&v[j]) }

        for _ in 1...maxIterations {
            var vg = 0, vs = 0
            for i in 0...n {
                if f[i] > f[vg] { vg = i }
                if f[i] < f[vs] { vs = i }
            }
            var vh = vs
            for i in 0...n where f[i] > f[vh] && f[i] < f[vg] { vh = i }
            for i in 0..<n {
                var cent = 0.0
                for k in 0...n where k != vg { cent += v[k][i] }
                vm[i] = cent / Double(n)
            }
            for i in 0..<n { vr[i] = vm[i] + alpha * (vm[i] - v[vg][i]) }
            let fr = objective(&vr)
            if fr < f[vh] && fr >= f[vs] {
                v[vg] = vr
                f[vg] = fr
            }
            if fr < f[vs] {
                for i in 0..<n { ve[i] = vm[i] + gamma * (vr[i] - vm[i]) }
                let fe = objective(&ve)
                if fe < fr {
                    v[vg] = ve
                    f[vg] = fe
                } else {
                    v[vg] = vr
                    f[vg] = fr
                }
            }
            if fr >= f[vh] {
                if fr < f[vg] && fr >= f[vh] {
                    for i in 0..<n { vc[i] = vm[i] + beta * (vr[i] - vm[i]) }
                } else {
                    for i in 0..<n { vc[i] = vm[i] - beta * (vm[i] - v[vg][i]) }
                }
                let fc = objective(&vc)
                if fc < f[vg] {
                    v[vg] = vc
                    f[vg] = fc
                } else {
                    for row in 0...n where row != vs {
                        for i in 0..<n { v[row][i] = v[vs][i] + (v[row][i] - v[vs][i]) / 2 }
                    }
                    f[vg] = objective(&v[vg])
                    f[vh] = objective(&v[vh])
                }
            }
            let favg = f.reduce(0, +) / Double(n + 1)
            var s = 0.0
            for i in 0...n { s += pow(f[i] - favg, 2) / Double(n) }
            if s.squareRoot() < epsilon { break }
        }
        var vs = 0
        for i in 0...n where f[i] < f[vs] { vs = i }
        let parameters = v[vs]
        let minimum = objective(&v[vs])
        return (minimum, parameters)
    }
}
