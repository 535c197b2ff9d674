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
    ///
    /// Unless a layer uses batch statistics, the batch is split into one part per thread of the
    /// job (`forEachSamplePart`), each part's forward and backward run on its own thread, and the
    /// parts' parameter gradients are added in part order. Each part's loss is its samples' sum
    /// scaled by `1/N` for the whole batch's `N`, so each sample's gradient is the one of the
    /// batch's mean, and dropout applies the part's rows of the masks that one pass over the
    /// whole batch would draw: the step computes what one pass does, up to the rounding of the
    /// products and of the order in which the parts' gradients are added.
    public func trainStep(
        inputs: Tensor, supervision: Supervision, loss lossKind: Loss, optimizer: any Optimizer,
        rng: inout RandomSource
    ) -> Float {
        let dropout = rng.derived("dropout-\(rng.next())")
        let parameters = namedParameters.map(\.parameter)
        // The tapes (whose leaves share the parameters' storage) are gone before the optimizer
        // updates the parameters in place, so their storage is not copied first.
        if layers.contains(where: { $0.layer.usesBatchStatisticsInTraining }) {
            let lossValue = wholeBatchGradients(inputs: inputs, supervision: supervision, loss: lossKind, rng: dropout)
            optimizer.step(parameters)
            return lossValue
        }
        let (lossValue, updated) = splitGradients(
            inputs: inputs, supervision: supervision, loss: lossKind, rng: dropout,
            updating: optimizer as? any ElementwiseOptimizer)
        optimizer.step(parameters.filter { !updated.contains(ObjectIdentifier($0)) })
        return lossValue
    }

    /// One training-mode forward and backward pass over the whole batch; the parameters get their
    /// gradients of the mean loss. Returns the mean loss.
    func wholeBatchGradients(inputs: Tensor, supervision: Supervision, loss lossKind: Loss, rng: RandomSource) -> Float {
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .training, rng: rng, parametersRequireGradients: true)
        let loss = forward(tape.leaf(inputs), context: &context).loss(lossKind, supervision)
        tape.backward(from: loss)
        collectGradients(from: context)
        return loss.value.scalars[0]
    }

    /// `wholeBatchGradients` over the parts of `forEachSamplePart` (one pass when there is one
    /// part); the parameters get the sum of the parts' gradients, in part order. With an
    /// element-wise optimizer, the linear weights summed in blocks over the whole batch are also
    /// updated, each block as soon as it is summed: returns the mean loss and those parameters.
    func splitGradients(
        inputs: Tensor, supervision: Supervision, loss lossKind: Loss, rng: RandomSource,
        parts requested: Int? = nil, updating optimizer: (any ElementwiseOptimizer)? = nil
    ) -> (loss: Float, updated: Set<ObjectIdentifier>) {
        let count = inputs.shape[0]
        typealias Deferred = (parameter: Parameter, input: Tensor, outputGradient: Tensor?)
        let parts = forEachSamplePart(count, parts: requested) { rows -> (loss: Float, gradients: [(Parameter, Tensor?)], deferred: [Deferred])? in
            guard rows.count < count else { return nil }
            let tape = Tape()
            var context = ForwardContext(tape: tape, mode: .training, rng: rng, parametersRequireGradients: true)
            context.batchPart = (rows, count)
            context.defersLinearWeightGradients = true
            // The inputs need no gradient: the part's rows are normalised straight from the batch.
            let output = forward(tape.leaf(normalizedRows(inputs, rows)), layers: layers.indices, context: &context, inputIsNormalized: true)
            let loss = output.loss(lossKind, supervision.slice(rows), reduction: .sum)
            tape.backward(from: loss, seed: Tensor(shape: [1], scalars: [1 / Float(count)]))
            return (
                loss.value.scalars[0], context.parameterLeaves.map { ($0.0, tape.gradient(of: $0.1)) },
                context.deferredWeightGradients.map { ($0.parameter, $0.input, tape.gradient(of: $0.output)) }
            )
        }
        guard parts.count > 1 else {
            return (wholeBatchGradients(inputs: inputs, supervision: supervision, loss: lossKind, rng: rng), [])
        }
        let results = parts.map { $0! }
        // Every part made the same parameter leaves in the same order.
        for (index, (parameter, first)) in results[0].gradients.enumerated() {
            var total = first
            for part in results.dropFirst() {
                precondition(part.gradients[index].0 === parameter, "parts made their parameter leaves in different orders")
                guard let gradient = part.gradients[index].1 else { continue }
                if total == nil { total = gradient } else { total!.add(gradient) }
            }
            parameter.gradient = total
        }
        // Linear weights: one product over the whole batch each, from every part's input and
        // output gradient, all in one job; with an element-wise optimizer each block of a
        // gradient updates its block of the weight at once.
        let weights = results[0].deferred.map(\.parameter)
        var requests = weights.indices.map { index in
            Kernels.LinearWeightGradient(
                outputGradients: results.map { $0.deferred[index].outputGradient },
                inputs: results.map { part in
                    precondition(part.deferred[index].parameter === weights[index], "parts deferred their weight gradients in different orders")
                    return part.deferred[index].input
                })
        }
        // The weights' storage stays put while the job writes it (the parts' tapes, which
        // shared it, are gone).
        var updated: Set<ObjectIdentifier> = []
        func update(from index: Int) {
            guard index < weights.count else {
                for (parameter, gradient) in zip(weights, Kernels.linearWeightGradients(requests)) { parameter.gradient = gradient }
                return
            }
            let parameter = weights[index]
            guard let optimizer, requests[index].outputGradients.contains(where: { $0 != nil }) else { return update(from: index + 1) }
            let step = optimizer.beginStep(of: parameter, count: parameter.value.count)
            updated.insert(ObjectIdentifier(parameter))
            parameter.value.scalars.withUnsafeMutableBufferPointer { value in
                let theta = value.baseAddress!
                requests[index].eachBlock = { gradient, elements in step.apply(theta, gradient, elements) }
                update(from: index + 1)
            }
        }
        update(from: 0)
        return (Float(results.reduce(0.0) { $0 + Double($1.loss) } / Double(count)), updated)
    }

    /// The gradient of the summed cross-entropy with respect to the input pixels, with
    /// parameters held constant (no weight gradients are computed). Also returns the logits.
    /// Summing (not averaging) keeps each sample's gradient independent of the batch size, so
    /// in inference mode the batch is split into one part per thread of the job
    /// (`forEachSamplePart`).
    public func inputGradient(
        images: Tensor, labels: [Int], mode: ForwardMode = .inference,
        rng: RandomSource = RandomSource(seed: 0)
    ) -> (gradient: Tensor, logits: Tensor) {
        guard mode == .inference else { return wholeBatchInputGradient(images: images, labels: labels, mode: mode, rng: rng) }
        return splitInputGradient(images: images, labels: labels)
    }

    /// The gradient of `Σ_n ℓ_n(z_n)` with respect to the input pixels for any per-sample loss
    /// of the logits, in inference mode, with parameters held constant; also the logits.
    /// `logitGradient(z, range)` returns `∂ℓ/∂z` `[n, K]` for the logits `z` of the samples
    /// `range` of the batch (it runs once per part of `forEachSamplePart`, possibly on several
    /// threads at once, so it must only read shared state).
    public func inputGradient(images: Tensor, logitGradient: (Tensor, Range<Int>) -> Tensor) -> (gradient: Tensor, logits: Tensor) {
        let parts = forEachSamplePart(images.shape[0]) { range in
            let tape = Tape()
            var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0))
            let input = tape.leaf(images.slice(range), requiresGradient: true)
            let logits = forward(input, context: &context)
            tape.backward(from: logits, seed: logitGradient(logits.value, range))
            return (gradient: tape.gradient(of: input) ?? Tensor(shape: input.value.shape), logits: logits.value)
        }
        guard parts.count > 1 else { return parts[0] }
        return (Tensor(concatenating: parts.map(\.gradient)), Tensor(concatenating: parts.map(\.logits)))
    }

    /// `inputGradient` in inference mode, over the parts of `forEachSamplePart`.
    func splitInputGradient(images: Tensor, labels: [Int], parts requested: Int? = nil) -> (gradient: Tensor, logits: Tensor) {
        let parts = forEachSamplePart(images.shape[0], parts: requested) { range in
            wholeBatchInputGradient(images: images.slice(range), labels: Array(labels[range]), mode: .inference, rng: RandomSource(seed: 0))
        }
        guard parts.count > 1 else { return parts[0] }
        return (Tensor(concatenating: parts.map(\.gradient)), Tensor(concatenating: parts.map(\.logits)))
    }

    /// `inputGradient` in one pass on the calling thread.
    func wholeBatchInputGradient(images: Tensor, labels: [Int], mode: ForwardMode, rng: RandomSource) -> (gradient: Tensor, logits: Tensor) {
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
