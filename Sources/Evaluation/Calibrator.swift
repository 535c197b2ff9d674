import Foundation
import Tensors

/// A post-hoc calibration method as written in an experiment file
/// (`calibration: {methods: [{type: …}]}`): fitted on the validation split's outputs of a
/// predictor, then applied to its test outputs.
public protocol Calibrator: Codable, Sendable {
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

/// Per-class calibrated probabilities `[N, classes]` renormalised to sum to 1 per sample (after
/// flooring at `probabilityFloor`), returned as log-probabilities.
func logProbabilities(renormalising probabilities: [Double], classes: Int) -> Tensor {
    let rows = probabilities.count / classes
    var out = [Float](repeating: 0, count: probabilities.count)
    for i in 0..<rows {
        let row = (0..<classes).map { max(probabilities[i * classes + $0], probabilityFloor) }
        let total = row.reduce(0, +)
        for c in 0..<classes { out[i * classes + c] = Float(log(row[c] / total)) }
    }
    return Tensor(shape: [rows, classes], scalars: out)
}
