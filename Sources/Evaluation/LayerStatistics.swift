import Foundation
import Layers
import Tensors

/// Per-layer activation statistics of a model over a set of inputs (inference mode), and how
/// a perturbation's effect grows through the layers.
public struct LayerStatistics: Sendable {
    /// Layer names, in order.
    public var layers: [String]
    /// Mean and (population) standard deviation of every activation value of the layer.
    public var mean: [Double]
    public var std: [Double]
    /// The fraction of the layer's units (output positions) that are ≤ 0 for every input: dead
    /// ReLUs after a ReLU layer.
    public var deadFraction: [Double]
    /// Every layer's outputs, `[N, …]`, kept to compare perturbed inputs with clean ones.
    public var activations: [Tensor]

    /// Runs `inputs` through the model in chunks of `batchSize`, recording every layer whose
    /// output is per sample (`Sequential.perSampleLayerNames`).
    public static func measure(_ model: Sequential, inputs: Tensor, batchSize: Int = 256) -> LayerStatistics {
        let names = model.perSampleLayerNames
        var values = names.map { _ in [Float]() }
        var shapes = names.map { _ in [Int]() }
        for start in stride(from: 0, to: inputs.shape[0], by: batchSize) {
            let range = start..<min(start + batchSize, inputs.shape[0])
            let tape = Tape()
            var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0), recordedLayers: Set(names))
            _ = model.forward(tape.leaf(inputs.slice(range)), context: &context)
            for (index, name) in names.enumerated() {
                let activation = context.activations[name]!.value
                values[index] += activation.scalars
                shapes[index] = Array(activation.shape.dropFirst())
            }
        }
        let n = inputs.shape[0]
        let activations = names.indices.map { Tensor(shape: [n] + shapes[$0], scalars: values[$0]) }
        var mean: [Double] = [], std: [Double] = [], dead: [Double] = []
        for activation in activations {
            let count = Double(max(1, activation.count))
            let m = activation.scalars.reduce(0.0) { $0 + Double($1) } / count
            let variance = activation.scalars.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / count
            let units = activation.count / max(1, n)
            var alive = [Bool](repeating: false, count: units)
            for (i, value) in activation.scalars.enumerated() where value > 0 { alive[i % units] = true }
            mean.append(m)
            std.append(variance.squareRoot())
            dead.append(Double(alive.filter { !$0 }.count) / Double(max(1, units)))
        }
        return LayerStatistics(layers: names, mean: mean, std: std, deadFraction: dead, activations: activations)
    }

    /// Per layer, the mean over samples of `‖a(x′) − a(x)‖₂ / ‖a(x)‖₂` between these
    /// (perturbed) activations and `clean`'s, sample by sample (NaN where `a(x)` is zero).
    public func relativeChange(from clean: LayerStatistics) -> [Double] {
        zip(activations, clean.activations).map { perturbed, reference in
            let n = reference.shape[0], size = reference.count / max(1, n)
            var total = 0.0, counted = 0
            for s in 0..<n {
                var difference = 0.0, norm = 0.0
                for i in (s * size)..<((s + 1) * size) {
                    let r = Double(reference.scalars[i]), d = Double(perturbed.scalars[i]) - r
                    difference += d * d
                    norm += r * r
                }
                if norm > 0 {
                    total += (difference / norm).squareRoot()
                    counted += 1
                }
            }
            return counted > 0 ? total / Double(counted) : .nan
        }
    }
}
