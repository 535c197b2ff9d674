import Foundation
import Tensors

extension RandomSource {
    /// A Poisson sample with mean `lambda` ≥ 0.
    ///
    /// Below 10, Knuth's product-of-uniforms method; from 10, Hörmann's transformed rejection
    /// with squeeze (PTRS, "The transformed rejection method for generating Poisson random
    /// variables", Insurance: Mathematics and Economics 12, 1993), exact for every mean.
    mutating func poisson(_ lambda: Double) -> Double {
        if lambda <= 0 { return 0 }
        if lambda < 10 {
            let limit = exp(-lambda)
            var product = 1.0, k = -1.0
            repeat {
                product *= unitDouble()
                k += 1
            } while product > limit
            return k
        }
        let root = lambda.squareRoot(), logLambda = log(lambda)
        let b = 0.931 + 2.53 * root
        let a = -0.059 + 0.02483 * b
        let inverseAlpha = 1.1239 + 1.1328 / (b - 3.4)
        let vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = unitDouble() - 0.5, v = unitDouble()
            let us = 0.5 - abs(u)
            let k = ((2 * a / us + b) * u + lambda + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return k }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if log(v) + log(inverseAlpha) - log(a / (us * us) + b) <= -lambda + k * logLambda - lgamma(k + 1) { return k }
        }
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    mutating func unitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}
