import Catalog
import Datasets
import Evaluation
import Foundation
import Grid
import Layers
import Results
import Spec
import Tensors

extension TrialRunner {
    /// Explains the model on the first test samples of every evaluation: each attribution
    /// method's raw maps, display scale and deletion/insertion curves; on the clean inputs the
    /// randomisation check and max-sensitivity; layer statistics and their relative change from
    /// the clean inputs; activation maps of the named layers; weight statistics.
    ///
    /// `inputs` are the evaluations' first inputs as the model saw them, clean first, and
    /// `labels` the matching test labels.
    func interpret(_ resolvedTrial: ResolvedTrial, model: Sequential, inputs: [(name: String, images: Tensor)], labels: [Int]) -> Interpretation {
        let spec = resolvedTrial.trial.spec.interpret, experiment = resolvedTrial.experiment
        let root = RandomSource(seed: resolvedTrial.trial.seed).derived("interpret")
        var result = Interpretation()
        result.evaluations = inputs.map(\.name)
        let methods = experiment.attributionMethods
        result.methods = methods.map { Interpretation.Method(label: $0.label, kind: type(of: $0).kind) }
        result.activationLayers = spec.layers
        result.activations = spec.layers.map { _ in [] }
        var randomized: Sequential?
        if spec.randomization && !methods.isEmpty {
            var rng = root.derived("randomized-model")
            randomized = try? resolvedTrial.model.build(inputShape: model.inputShape, normalization: model.normalization, rng: &rng)
        }
        var cleanStatistics: LayerStatistics?
        for (e, (name, images)) in inputs.enumerated() {
            let count = min(spec.samples, images.shape[0])
            let explained = images.slice(0..<count)
            let targets = spec.target == .label ? Array(labels[0..<count]) : model.logits(explained).argMax(axis: 1)
            result.targets.append(targets)
            for (m, method) in methods.enumerated() {
                var rng = root.derived("\(m)/\(name)")
                let attribution = method.attribute(model, inputs: explained, targets: targets, rng: &rng)
                var record = result.methods[m]
                record.maps.append(attribution.maps)
                record.displayScale.append(AttributionQuality.displayScale(attribution.maps))
                if spec.deletionSteps > 0 {
                    let curves = AttributionQuality.curves(model, inputs: explained, targets: targets, maps: attribution.maps, steps: spec.deletionSteps)
                    record.deletion.append(curves.deletion)
                    record.insertion.append(curves.insertion)
                }
                if let absolute = attribution.completenessError, let relative = attribution.relativeCompletenessError {
                    record.completenessError.append(absolute)
                    record.relativeCompletenessError.append(relative)
                }
                if e == 0, let randomized {
                    var randomRNG = root.derived("\(m)/randomized")
                    let maps = method.attribute(randomized, inputs: explained, targets: targets, rng: &randomRNG).maps
                    record.randomizationCorrelation = AttributionQuality.randomizationCorrelation(trained: attribution.maps, randomized: maps)
                }
                if e == 0, spec.sensitivityPerturbations > 0 {
                    var sensitivityRNG = root.derived("\(m)/sensitivity")
                    record.sensitivity = AttributionQuality.sensitivity(
                        method, model: model, inputs: explained, targets: targets, maps: attribution.maps,
                        perturbations: spec.sensitivityPerturbations,
                        radius: Float(spec.sensitivityRadius), rng: &sensitivityRNG)
                }
                result.methods[m] = record
                log("[\(resolvedTrial.trial.label)] interpret \(name) \(method.label): \(Self.qualityLine(record, clean: e == 0))")
            }
            if !spec.layers.isEmpty {
                let tape = Tape()
                var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0), recordedLayers: Set(spec.layers))
                _ = model.forward(tape.leaf(explained), context: &context)
                for (l, layer) in spec.layers.enumerated() { result.activations[l].append(context.activations[layer]!.value) }
            }
            if spec.statisticsSamples > 0 {
                let statistics = LayerStatistics.measure(model, inputs: images.slice(0..<min(spec.statisticsSamples, images.shape[0])))
                let clean = cleanStatistics ?? statistics
                if cleanStatistics == nil { cleanStatistics = statistics }
                result.layers = statistics.layers
                result.layerMean.append(statistics.mean)
                result.layerStd.append(statistics.std)
                result.deadFraction.append(statistics.deadFraction)
                result.relativeChange.append(statistics.relativeChange(from: clean))
            }
        }
        for (key, parameter) in model.namedParameters {
            let values = parameter.value.scalars.map(Double.init)
            let n = Double(max(1, values.count)), mean = values.reduce(0, +) / n
            let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
            result.weightNames.append(key)
            result.weightStatistics.append([mean, std, values.min() ?? .nan, values.max() ?? .nan, values.reduce(0) { $0 + $1 * $1 }.squareRoot()])
        }
        if let first = model.namedParameters.first(where: { $0.parameter.value.rank == 4 }) {
            result.firstLayerFilters = first.parameter.value
        }
        return result
    }

    /// One log line of a method's quality on its latest evaluation.
    static func qualityLine(_ record: Interpretation.Method, clean: Bool) -> String {
        /// The mean of the defined values (a constant map has no rank correlation or sensitivity).
        func mean(_ values: [Double]) -> String {
            let defined = values.filter(\.isFinite)
            let shown = defined.isEmpty ? "undefined" : fmt(defined.reduce(0, +) / Double(defined.count), 3)
            return defined.count == values.count ? shown : "\(shown) (\(defined.count) of \(values.count) maps not constant)"
        }
        var parts: [String] = []
        if let deletion = record.deletion.last, let insertion = record.insertion.last {
            parts.append("deletion AUC \(mean(deletion.map(AttributionQuality.area))), insertion AUC \(mean(insertion.map(AttributionQuality.area)))")
        }
        if let relative = record.relativeCompletenessError.last { parts.append("completeness error \(mean(relative.map { $0 * 100 }))%") }
        if clean && !record.randomizationCorrelation.isEmpty { parts.append("randomisation rank correlation \(mean(record.randomizationCorrelation))") }
        if clean && !record.sensitivity.isEmpty { parts.append("max-sensitivity \(mean(record.sensitivity))") }
        return parts.isEmpty ? "maps stored" : parts.joined(separator: ", ")
    }
}
