import Spec
import Foundation
import Tensors

/// Class-prior (label) shift: the images keep their class-conditional distribution p(x | y),
/// the class frequencies change. The test split is resampled with replacement to its own size
/// so that class k is drawn with probability
///
///     π'(k) ∝ imbalance^(−r_k / (K − 1)),
///
/// r_k the rank of k among the K classes present in the test split (ascending class index; the
/// reverse order with `reverse: true`), then a test image of that class uniformly: the
/// exponential long-tail profile of Cao et al. 2019 (LDAM) with `imbalance` = π'(most
/// frequent) / π'(rarest). `imbalance: 1` gives a uniform prior; sweep `imbalance` (≥ 1) for a
/// shift curve. Labels are resampled, not noised (Lipton, Wang & Smola 2018, "Detecting and
/// correcting for label shift", simulate label shift the same way). Images are not changed, so
/// an image-level corruption list can hold it; it needs a classification task.
public struct ClassPriorShift: Corruption, Equatable {
    public static let kind = "class_prior"
    public static let defaults = ["reverse": "false"]
    public static let summary = "Class-prior (label) shift: the test split resampled so class frequencies fall exponentially by a ratio of imbalance."
    /// π'(most frequent class) / π'(rarest), ≥ 1 (1: a uniform prior).
    public var imbalance: Float
    /// The last classes are the rarest (default false); true: the first.
    public var reverse: Bool?

    public init(imbalance: Float, reverse: Bool? = nil) {
        self.imbalance = imbalance
        self.reverse = reverse
    }

    public func problems() -> [String] {
        imbalance >= 1 && imbalance.isFinite ? [] : ["imbalance must be a finite number ≥ 1, got \(imbalance)"]
    }

    public var label: String { "\(Self.kind)(imbalance=\(formatParameter(imbalance))\(reverse == true ? ",reverse=true" : ""))" }

    /// Images are unchanged: the shift is in which test samples are drawn.
    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor { images }

    /// The target prior over `classes` (sorted), in their order.
    public func prior(classes: Int) -> [Double] {
        guard classes > 1 else { return [1] }
        let weights = (0..<classes).map { k -> Double in
            let rank = reverse == true ? classes - 1 - k : k
            return pow(Double(imbalance), -Double(rank) / Double(classes - 1))
        }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// A label shift: the evaluation sees the test split resampled (`resample`), not its images changed.
    public func resampledTestIndices(labels: [Int], rng: inout RandomSource) -> [Int]? {
        resample(labels: labels, rng: &rng)
    }

    /// The test-sample indices of the shifted evaluation (`labels.count` of them, in order).
    public func resample(labels: [Int], rng: inout RandomSource) -> [Int] {
        let classes = Array(Set(labels)).sorted()
        guard !classes.isEmpty else { return [] }
        var members: [Int: [Int]] = [:]
        for (index, label) in labels.enumerated() { members[label, default: []].append(index) }
        var cumulative: [Double] = []
        for p in prior(classes: classes.count) { cumulative.append((cumulative.last ?? 0) + p) }
        return labels.indices.map { _ in
            let u = Double(rng.nextUnitFloat()) * cumulative.last!
            let k = cumulative.firstIndex { u < $0 } ?? classes.count - 1
            let pool = members[classes[k]]!
            return pool[rng.nextIndex(below: pool.count)]
        }
    }
}
