import Tensors

extension Sequential {
    /// One optimisation step on a batch: forward in training mode, mean cross-entropy,
    /// backward to the parameters only, optimizer update. Returns the batch's mean loss.
    public func trainStep(images: Tensor, labels: [Int], optimizer: any Optimizer, rng: inout RandomSource) -> Float {
        trainStep(inputs: images, supervision: .labels(labels), loss: .crossEntropy, optimizer: optimizer, rng: &rng)
    }

    /// One optimisation step on a batch with any loss: forward in training mode, mean `loss`
    /// against `supervision`, backward to the parameters only, optimizer update. Returns the
    /// batch's mean loss.
    public func trainStep(inputs: Tensor, supervision: Supervision, loss lossKind: Loss, optimizer: any Optimizer,
                          rng: inout RandomSource) -> Float {
        // The tape (whose leaves share the parameters' storage) is gone before the optimizer
        // updates the parameters in place, so their storage is not copied first.
        let lossValue: Float = {
            let tape = Tape()
            var context = ForwardContext(tape: tape, mode: .training, rng: rng.derived("dropout-\(rng.next())"),
                                         parametersRequireGradients: true)
            let loss = forward(tape.leaf(inputs), context: &context).loss(lossKind, supervision)
            tape.backward(from: loss)
            collectGradients(from: context)
            return loss.value.scalars[0]
        }()
        optimizer.step(namedParameters.map(\.parameter))
        return lossValue
    }

    /// The gradient of the summed cross-entropy with respect to the input pixels, with
    /// parameters held constant (no weight gradients are computed). Also returns the logits.
    /// Summing (not averaging) keeps each sample's gradient independent of the batch size.
    public func inputGradient(images: Tensor, labels: [Int], mode: ForwardMode = .inference,
                              rng: RandomSource = RandomSource(seed: 0)) -> (gradient: Tensor, logits: Tensor) {
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: mode, rng: rng)
        let input = tape.leaf(images, requiresGradient: true)
        let logits = forward(input, context: &context)
        tape.backward(from: logits.crossEntropy(labels: labels, reduction: .sum))
        return (tape.gradient(of: input) ?? Tensor(shape: images.shape), logits.value)
    }
}

extension Sequential {
    /// What `targetGradients` returns: the logits, the gradient of each sample's target logit
    /// with respect to its input, and for every recorded layer its output and that output's
    /// gradient.
    public struct TargetGradients {
        public var logits: Tensor
        public var input: Tensor
        public var layers: [String: (activation: Tensor, gradient: Tensor)]
    }

    /// The gradient of `Σ_n z_n[targets[n]]` (each sample's target logit; samples are
    /// independent in inference mode) with respect to the inputs and to the outputs of `layers`,
    /// with parameters held constant. The basis of every gradient attribution.
    public func targetGradients(inputs: Tensor, targets: [Int], layers recorded: Set<String> = []) -> TargetGradients {
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0), recordedLayers: recorded)
        let input = tape.leaf(inputs, requiresGradient: true)
        let logits = forward(input, context: &context)
        let classes = logits.shape[1]
        precondition(targets.count == inputs.shape[0] && targets.allSatisfy { (0..<classes).contains($0) }, "targets \(targets) for logits \(logits.shape)")
        var seed = Tensor(shape: logits.shape)
        for (row, target) in targets.enumerated() { seed.scalars[row * classes + target] = 1 }
        tape.backward(from: logits, seed: seed)
        var layerGradients: [String: (activation: Tensor, gradient: Tensor)] = [:]
        for (name, variable) in context.activations {
            layerGradients[name] = (variable.value, tape.gradient(of: variable) ?? Tensor(shape: variable.shape))
        }
        return TargetGradients(logits: logits.value, input: tape.gradient(of: input) ?? Tensor(shape: inputs.shape), layers: layerGradients)
    }
}
