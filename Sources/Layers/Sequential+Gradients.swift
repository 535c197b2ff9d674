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
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .training, rng: rng.derived("dropout-\(rng.next())"),
                                     parametersRequireGradients: true)
        let loss = forward(tape.leaf(inputs), context: &context).loss(lossKind, supervision)
        tape.backward(from: loss)
        collectGradients(from: context)
        optimizer.step(namedParameters.map(\.parameter))
        return loss.value.scalars[0]
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
