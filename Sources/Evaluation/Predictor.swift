import Foundation
import Layers
import Tensors

/// What turns a batch of inputs into a predictive distribution: the trial's model (one
/// deterministic pass), MC dropout over it, or an ensemble of models.
public struct Predictor {
    public enum Method: Sendable, Equatable {
        case model
        case monteCarloDropout(passes: Int, perLayer: Bool)
        case ensemble
    }

    /// `model`, or the uncertainty method's label (`mc_dropout(passes=20)`).
    public var label: String
    public var method: Method
    /// The model (`model`, MC dropout) or the members (ensemble).
    public var models: [Sequential]

    public init(label: String, method: Method, models: [Sequential]) {
        precondition(!models.isEmpty)
        self.label = label
        self.method = method
        self.models = models
    }

    /// The trial's model alone, in inference mode.
    public static func model(_ model: Sequential) -> Predictor { Predictor(label: "model", method: .model, models: [model]) }

    /// The layers whose activation variance `per_layer` MC dropout records, in order.
    public var recordedLayers: [String] {
        guard case .monteCarloDropout(_, true) = method else { return [] }
        return models[0].layers.map(\.name)
    }

    /// One batch's predictions: scores whose softmax is the predictive distribution (the
    /// model's logits, or `log p̄` of the passes' mean probability, floored at the smallest normal
    /// Float), every `UncertaintyScore` per sample (empty unless `withScores`), and per recorded
    /// layer the sum over the batch's samples of the mean activation variance across passes.
    public func predict(_ batch: Tensor, rng: inout RandomSource, withScores: Bool = true)
        -> (logits: Tensor, scores: [[Double]], layerVariance: [Double])
    {
        let (outputs, layerVariance) = forwardPasses(batch, rng: &rng)
        let classes = outputs[0].shape[1]
        if method == .model {
            let logits = outputs[0]
            guard withScores else { return (logits, [], []) }
            return (logits, UncertaintyScore.scores(passes: [Kernels.softmax(logits).scalars.map(Double.init)], classes: classes), [])
        }
        let passes = outputs.map { Kernels.softmax($0).scalars.map(Double.init) }
        let scores = withScores ? UncertaintyScore.scores(passes: passes, classes: classes) : []
        var mean = [Float](repeating: 0, count: passes[0].count)
        for pass in passes { for i in mean.indices { mean[i] += Float(pass[i] / Double(passes.count)) } }
        let logMean = mean.map { logf(max($0, Float.leastNormalMagnitude)) }
        return (Tensor(shape: [batch.shape[0], classes], scalars: logMean), scores, layerVariance)
    }

    /// One batch's regression predictions for `targets` targets per sample: the mean of the
    /// passes' predicted means, the mean of their predicted variances `e^s` when the outputs have a
    /// log-variance half (`loss` is Gaussian NLL), the population variance of the predicted means
    /// across passes for MC dropout and ensembles, and the recorded layers' variance sums.
    public func predictRegression(_ batch: Tensor, targets: Int, loss: Loss, rng: inout RandomSource)
        -> (batch: RegressionBatch, layerVariance: [Double])
    {
        let (outputs, layerVariance) = forwardPasses(batch, rng: &rng)
        let samples = batch.shape[0], width = outputs[0].shape[1], k = Double(outputs.count)
        var mean = [Double](repeating: 0, count: samples * targets)
        var aleatoric: [Double]? = loss.predictsVariance ? [Double](repeating: 0, count: samples * targets) : nil
        var squares = [Double](repeating: 0, count: samples * targets)
        for output in outputs {
            for r in 0..<samples {
                for t in 0..<targets {
                    let i = r * targets + t, mu = Double(output.scalars[r * width + t])
                    mean[i] += mu / k
                    squares[i] += mu * mu / k
                    if aleatoric != nil { aleatoric![i] += exp(Double(output.scalars[r * width + targets + t])) / k }
                }
            }
        }
        let epistemic: [Double]? = method == .model ? nil : zip(squares, mean).map { max(0, $0 - $1 * $1) }
        return (
            RegressionBatch(
                mean: mean, aleatoric: aleatoric, epistemic: epistemic,
                targets: [Double](repeating: .nan, count: samples * targets), targetCount: targets), layerVariance
        )
    }

    /// The raw outputs of every pass (the model's one, each MC-dropout pass, each member) and,
    /// for MC dropout with `per_layer`, per recorded layer the sum over the batch's samples of
    /// the mean activation variance across passes.
    func forwardPasses(_ batch: Tensor, rng: inout RandomSource) -> (outputs: [Tensor], layerVariance: [Double]) {
        switch method {
        case .model:
            return ([models[0].logits(batch)], [])
        case .ensemble:
            return (models.map { $0.logits(batch) }, [])
        case .monteCarloDropout(let count, _):
            let names = recordedLayers
            let model = models[0]
            // The layers before the first dropout are deterministic: computed once, shared by
            // every pass (exactly the same outputs; dropout masks are drawn in the same order).
            // The passes then run side by side on the job's threads, each on one thread from its
            // own generator (seeds drawn in pass order, as one pass after the other drew them).
            if names.isEmpty, let shared = model.firstStochasticLayer, shared > 0 {
                let features = model.perSampleValues(batch, layers: 0..<shared, mode: .monteCarloDropout)
                let seeds = (0..<count).map { _ in rng.next() }
                let outputs = Parallel.map(count) { pass in
                    let tape = Tape()
                    var context = ForwardContext(tape: tape, mode: .monteCarloDropout, rng: RandomSource(seed: seeds[pass]))
                    return model.forward(tape.leaf(features), layers: shared..<model.layers.count, context: &context).value
                }
                return (outputs, [])
            }
            var welford = names.map { _ in (mean: [Float](), m2: [Float]()) }
            var outputs: [Tensor] = []
            for pass in 0..<count {
                let tape = Tape()
                var context = ForwardContext(
                    tape: tape, mode: .monteCarloDropout, rng: RandomSource(seed: rng.next()),
                    recordedLayers: Set(names))
                outputs.append(models[0].forward(tape.leaf(batch), context: &context).value)
                for (index, name) in names.enumerated() {
                    guard let activation = context.activations[name]?.value.scalars else { continue }
                    Self.welfordUpdate(&welford[index], with: activation, count: pass + 1)
                }
            }
            let samples = batch.shape[0]
            let layerVariance = welford.map { state in
                Double(state.m2.reduce(0, +)) / Double(count) / Double(max(1, state.m2.count / max(1, samples)))
            }
            return (outputs, layerVariance)
        }
    }

    /// One step of Welford's running mean and sum of squared deviations (`count` values so far).
    static func welfordUpdate(_ state: inout (mean: [Float], m2: [Float]), with values: [Float], count: Int) {
        if state.mean.isEmpty {
            state = (values, [Float](repeating: 0, count: values.count))
            return
        }
        let n = Float(count)
        for i in values.indices {
            let delta = values[i] - state.mean[i]
            state.mean[i] += delta / n
            state.m2[i] += delta * (values[i] - state.mean[i])
        }
    }
}
