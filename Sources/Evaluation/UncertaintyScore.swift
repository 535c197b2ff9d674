import Foundation

/// Per-sample uncertainty scores of a predictive distribution estimated from `S` stochastic
/// passes (MC dropout) or members (an ensemble) `p_1 … p_S`, with `p̄` their mean; a
/// deterministic model is the case `S = 1`. Logs are natural (nats).
///
/// - `entropy`: predictive entropy `H[p̄] = −Σ_c p̄_c log p̄_c` (total uncertainty);
/// - `expected_entropy`: `(1/S) Σ_s H[p_s]` (the aleatoric part);
/// - `mutual_information`: `H[p̄] − (1/S) Σ_s H[p_s]` (BALD, Houlsby et al. 2011; the epistemic
///   part, 0 for `S = 1`);
/// - `variation_ratio`: `1 − f/S`, `f` the number of passes voting for the most voted arg-max
///   class (Freeman 1965; Gal 2016);
/// - `predictive_variance`: `(1/C) Σ_c Var_s(p_sc)`, the population variance over passes
///   averaged over classes;
/// - `max_probability`: `max_c p̄_c` (Hendrycks & Gimpel 2017), a confidence: lower means more
///   uncertain.
///
/// For out-of-distribution detection every score is oriented so that higher means "more
/// likely out of distribution" (`max_probability` enters as `1 − max_c p̄_c`).
public enum UncertaintyScore: String, Sendable, CaseIterable {
    case entropy
    case expectedEntropy = "expected_entropy"
    case mutualInformation = "mutual_information"
    case variationRatio = "variation_ratio"
    case predictiveVariance = "predictive_variance"
    case maxProbability = "max_probability"

    /// Whether a higher value means more uncertain.
    public var growsWithUncertainty: Bool { self != .maxProbability }

    /// The score oriented for detection (higher: more uncertain).
    public func detectionScore(_ value: Double) -> Double { growsWithUncertainty ? value : 1 - value }

    /// Every score of every sample from the passes' probabilities, each pass `[samples × classes]`
    /// row-major; returns `[score][sample]` in `allCases` order.
    public static func scores(passes: [[Double]], classes: Int) -> [[Double]] {
        let samples = (passes.first?.count ?? 0) / classes
        let s = Double(passes.count)
        var out = allCases.map { _ in [Double](repeating: 0, count: samples) }
        var mean = [Double](repeating: 0, count: classes)
        var votes = [Int](repeating: 0, count: classes)
        for i in 0..<samples {
            for c in 0..<classes { mean[c] = 0; votes[c] = 0 }
            var expectedEntropy = 0.0
            for pass in passes {
                var best = 0
                for c in 0..<classes {
                    let p = pass[i * classes + c]
                    mean[c] += p / s
                    if p > 0 { expectedEntropy -= p * log(p) / s }
                    if p > pass[i * classes + best] { best = c }
                }
                votes[best] += 1
            }
            var entropy = 0.0, variance = 0.0
            for c in 0..<classes {
                if mean[c] > 0 { entropy -= mean[c] * log(mean[c]) }
                var squares = 0.0
                for pass in passes { let d = pass[i * classes + c] - mean[c]; squares += d * d }
                variance += squares / s / Double(classes)
            }
            out[0][i] = entropy
            out[1][i] = expectedEntropy
            out[2][i] = max(0, entropy - expectedEntropy)
            out[3][i] = 1 - Double(votes.max() ?? 0) / s
            out[4][i] = variance
            out[5][i] = mean.max() ?? 0
        }
        return out
    }
}
