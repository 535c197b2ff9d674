import Tensors

/// The difference-of-logits-ratio losses of Croce & Hein (ICML 2020), which APGD maximises:
/// invariant to shifting and rescaling the logits, so a model cannot hide behind their scale.
/// With the logits `z` of one sample sorted decreasing as `z_π1 ≥ z_π2 ≥ …` and label `y`:
///
/// - untargeted: `DLR = −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 10⁻¹²)` (3 or more classes);
/// - targeted at `t`: `DLR_t = −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 10⁻¹²)` (4 or more).
///
/// Positive once the sample is misclassified (untargeted) or classified as `t` (targeted, when
/// `z_t` is the largest). Each function returns every sample's loss and its gradient with
/// respect to the logits, `[N, K]`.
enum DLRLoss {
    static let stabiliser: Float = 1e-12

    /// The indices of a sample's logits in decreasing order (ties by index).
    static func order(_ z: ArraySlice<Float>) -> [Int] {
        let base = z.startIndex
        return z.indices.sorted { z[$0] > z[$1] || (z[$0] == z[$1] && $0 < $1) }.map { $0 - base }
    }

    static func untargeted(logits: Tensor, labels: [Int]) -> (loss: [Float], gradient: Tensor) {
        let classes = logits.shape[1]
        precondition(classes >= 3, "the DLR loss needs 3 or more classes")
        var loss = [Float](repeating: 0, count: labels.count)
        var gradient = Tensor(shape: logits.shape)
        for (n, y) in labels.enumerated() {
            let row = n * classes
            let z = logits.scalars[row..<(row + classes)]
            let sorted = order(z)
            let other = sorted[0] == y ? sorted[1] : sorted[0]
            let margin = z[row + y] - z[row + other]
            let d = z[row + sorted[0]] - z[row + sorted[2]] + stabiliser
            loss[n] = -margin / d
            gradient.scalars[row + y] -= 1 / d
            gradient.scalars[row + other] += 1 / d
            gradient.scalars[row + sorted[0]] += margin / (d * d)
            gradient.scalars[row + sorted[2]] -= margin / (d * d)
        }
        return (loss, gradient)
    }

    static func targeted(logits: Tensor, labels: [Int], targets: [Int]) -> (loss: [Float], gradient: Tensor) {
        let classes = logits.shape[1]
        precondition(classes >= 4, "the targeted DLR loss needs 4 or more classes")
        var loss = [Float](repeating: 0, count: labels.count)
        var gradient = Tensor(shape: logits.shape)
        for (n, y) in labels.enumerated() {
            let row = n * classes, t = targets[n]
            let z = logits.scalars[row..<(row + classes)]
            let sorted = order(z)
            let margin = z[row + y] - z[row + t]
            let d = z[row + sorted[0]] - (z[row + sorted[2]] + z[row + sorted[3]]) / 2 + stabiliser
            loss[n] = -margin / d
            gradient.scalars[row + y] -= 1 / d
            gradient.scalars[row + t] += 1 / d
            gradient.scalars[row + sorted[0]] += margin / (d * d)
            gradient.scalars[row + sorted[2]] -= margin / (2 * d * d)
            gradient.scalars[row + sorted[3]] -= margin / (2 * d * d)
        }
        return (loss, gradient)
    }
}
