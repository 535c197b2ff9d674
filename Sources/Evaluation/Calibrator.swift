import Spec
import Foundation
import Tensors

/// A post-hoc calibration method as written in an experiment file
/// (`calibration: {methods: [{type: …}]}`): fitted on the validation split's outputs of a
/// predictor, then applied to its test outputs.
public protocol Calibrator: SpecKind, Codable {
    /// The `type:` name of this kind in experiment files.
    static var kind: String { get }
    /// One line for `gauntlet list` and the JSON Schema.
    static var summary: String { get }
    /// The kind with its non-default parameters (`histogram_binning(bins=10)`); it names results.
    var label: String { get }
    /// Messages for parameters out of range; each starts with the parameter's name.
    func problems() -> [String]
    /// Fits the calibration map on logits `[N, classes]` (or log-probabilities) and their labels.
    func fit(logits: Tensor, labels: [Int]) -> any FittedCalibrator
}

/// A fitted calibration map.
public protocol FittedCalibrator: Sendable {
    /// Calibrated scores `[N, classes]` whose softmax is the calibrated distribution (logits or
    /// log-probabilities).
    func apply(_ logits: Tensor) -> Tensor
    /// The fitted parameters, for results and logs (temperature scaling: `temperature`).
    var parameters: [(name: String, values: [Double])] { get }
}

/// Probabilities below this are raised to it before renormalising, in calibrators that output
/// probabilities (histogram binning, isotonic regression), so that a class given probability 0
/// costs a finite log-loss.
let probabilityFloor = 1e-7

/// A one-vs-rest calibration applied: `map(c, p_c)` replaces every softmax probability of
/// `logits` `[N, classes]`; the results are floored at `probabilityFloor`, renormalised to sum
/// to 1 per sample, and returned as log-probabilities.
func calibratingEachClass(_ logits: Tensor, _ map: (_ c: Int, _ probability: Double) -> Double) -> Tensor {
    let classes = logits.shape[1], rows = logits.shape[0]
    let probabilities = Kernels.softmax(logits).scalars
    var out = [Float](repeating: 0, count: probabilities.count)
    for i in 0..<rows {
        let row = (0..<classes).map { c in max(map(c, Double(probabilities[i * classes + c])), probabilityFloor) }
        let total = row.reduce(0, +)
        for c in 0..<classes { out[i * classes + c] = Float(log(row[c] / total)) }
    }
    return Tensor(shape: [rows, classes], scalars: out)
}
