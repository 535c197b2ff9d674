import Foundation
import Tensors

/// Minimises the mean softmax cross-entropy of scores that are linear in a small parameter
/// vector θ, `s_ic(θ) = Σ_j θ_j · φ_icj`, plus an optional ridge penalty `(λ/2)·‖θ − θ₀‖²`
/// (θ₀ the starting point), by Newton's method with a backtracking line search.
///
/// The objective is convex in θ (a log-sum-exp of linear functions minus a linear function), so
/// the iteration converges to the global minimum; the penalty keeps that minimum finite when
/// the data are separable, and a further 1e-9 × the Hessian's trace keeps the system solvable
/// along flat directions (such as a shift common to every class's bias).
/// It stops when the gradient's largest entry is below 1e-9, when the Newton decrement
/// (the decrease a full step predicts, `gᵀH⁻¹g / 2`) is below 1e-14 × (1 + loss), when no step
/// lowers the loss (rounding then dominates: near the minimum a gradient just above 1e-9 can
/// leave no decrease a Double resolves), or after 100 iterations.
struct SoftmaxNewton {
    /// `features(i, c)` lists the non-zero `(j, φ_icj)` of sample `i`, class `c`.
    let count: Int
    let classes: Int
    let parameterCount: Int
    let labels: [Int]
    /// The ridge weight λ ≥ 0.
    var ridge = 0.0
    let features: (_ sample: Int, _ c: Int) -> [(Int, Double)]

    func scores(_ theta: [Double], sample i: Int) -> [Double] {
        (0..<classes).map { c in features(i, c).reduce(0) { $0 + theta[$1.0] * $1.1 } }
    }

    /// Mean negative log-likelihood at θ plus the penalty around `center`.
    func loss(_ theta: [Double], center: [Double]) -> Double {
        nll(theta) + ridge / 2 * zip(theta, center).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    }

    /// Mean negative log-likelihood at θ.
    func nll(_ theta: [Double]) -> Double {
        var total = 0.0
        for i in 0..<count {
            let s = scores(theta, sample: i)
            let top = s.max() ?? 0
            total += top + log(s.reduce(0) { $0 + exp($1 - top) }) - s[labels[i]]
        }
        return total / Double(count)
    }

    func minimise(from start: [Double]) -> [Double] {
        var theta = start
        var current = loss(theta, center: start)
        for _ in 0..<100 {
            var gradient = [Double](repeating: 0, count: parameterCount)
            var hessian = [Double](repeating: 0, count: parameterCount * parameterCount)
            for i in 0..<count {
                let s = scores(theta, sample: i)
                let top = s.max() ?? 0
                let e = s.map { exp($0 - top) }
                let z = e.reduce(0, +)
                let p = e.map { $0 / z }
                var mean = [Double](repeating: 0, count: parameterCount)  // Σ_c p_c φ_cj
                for c in 0..<classes {
                    let f = features(i, c)
                    for (j, value) in f {
                        mean[j] += p[c] * value
                        gradient[j] += (p[c] - (c == labels[i] ? 1 : 0)) * value
                    }
                    for (j, a) in f { for (k, b) in f { hessian[j * parameterCount + k] += p[c] * a * b } }
                }
                for j in 0..<parameterCount where mean[j] != 0 {
                    for k in 0..<parameterCount where mean[k] != 0 { hessian[j * parameterCount + k] -= mean[j] * mean[k] }
                }
            }
            let n = Double(count)
            gradient = gradient.indices.map { gradient[$0] / n + ridge * (theta[$0] - start[$0]) }
            hessian = hessian.map { $0 / n }
            for j in 0..<parameterCount { hessian[j * parameterCount + j] += ridge }
            if (gradient.map(abs).max() ?? 0) < 1e-9 { break }
            let trace = (0..<parameterCount).reduce(0) { $0 + hessian[$1 * parameterCount + $1] }
            for j in 0..<parameterCount { hessian[j * parameterCount + j] += 1e-9 * max(trace, 1e-12) + 1e-12 }
            guard let direction = Self.solve(hessian, gradient, size: parameterCount) else { break }
            let slope = zip(gradient, direction).reduce(0) { $0 + $1.0 * $1.1 }
            if slope / 2 <= 1e-14 * (1 + abs(current)) { break }
            var step = 1.0, improved = false
            while step > 1e-10 {
                let candidate = zip(theta, direction).map { $0 - step * $1 }
                let value = loss(candidate, center: start)
                if value < current && value <= current - 1e-4 * step * slope {
                    theta = candidate
                    current = value
                    improved = true
                    break
                }
                step /= 2
            }
            if !improved { break }
        }
        return theta
    }

    /// Solves `A x = b` for a small dense symmetric positive definite `A` by Gaussian elimination
    /// with partial pivoting; nil when `A` is singular.
    static func solve(_ a: [Double], _ b: [Double], size n: Int) -> [Double]? {
        var m = a, x = b
        for column in 0..<n {
            let pivot = (column..<n).max { abs(m[$0 * n + column]) < abs(m[$1 * n + column]) }!
            guard abs(m[pivot * n + column]) > 1e-300 else { return nil }
            if pivot != column {
                for k in 0..<n { m.swapAt(column * n + k, pivot * n + k) }
                x.swapAt(column, pivot)
            }
            for row in column + 1..<n {
                let factor = m[row * n + column] / m[column * n + column]
                if factor == 0 { continue }
                for k in column..<n { m[row * n + k] -= factor * m[column * n + k] }
                x[row] -= factor * x[column]
            }
        }
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = x[row]
            for k in row + 1..<n { sum -= m[row * n + k] * x[k] }
            x[row] = sum / m[row * n + row]
        }
        return x
    }
}

extension Tensor {
    /// Element `[i, c]` of a `[rows, classes]` tensor as a Double.
    func double(_ i: Int, _ c: Int) -> Double { Double(scalars[i * shape[1] + c]) }
}
