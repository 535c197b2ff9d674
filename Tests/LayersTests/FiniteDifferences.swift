import Tensors

@testable import Layers

/// Central finite differences of a model's summed cross-entropy against the tape's gradients,
/// with respect to a spread of the input's elements and of every parameter's.
struct FiniteDifferences {
    /// The step `h` of `(L(θ + h) − L(θ − h)) / 2h`.
    var step: Float
    /// Relative errors are `|analytic − numeric| / max(floor, |numeric|)`.
    var floor: Float
    /// About how many elements of the input are checked (0: none).
    var inputElements: Int
    /// About how many elements of each parameter are checked.
    var parameterElements: Int

    struct Result {
        /// The largest relative errors over the checked input and parameter elements.
        var input: Float
        var parameters: Float
        /// Parameter elements checked.
        var checked: Int
        /// Keys of parameters the backward pass left without a gradient.
        var missing: [String]
        /// The tape's gradient with respect to the input.
        var inputGradient: Tensor
    }

    func check(_ model: Sequential, input x: Tensor, labels: [Int]) -> Result {
        func loss(_ images: Tensor) -> Double {
            let logits = Kernels.logSoftmax(model.logits(images))
            return zip(0..., labels).reduce(0.0) { $0 - Double(logits[$1.0, $1.1]) }
        }
        let tape = Tape()
        var context = ForwardContext(tape: tape, mode: .inference, rng: RandomSource(seed: 0), parametersRequireGradients: true)
        let leaf = tape.leaf(x, requiresGradient: true)
        tape.backward(from: model.forward(leaf, context: &context).crossEntropy(labels: labels, reduction: .sum))
        model.collectGradients(from: context)
        let h = step
        /// The central difference of `evaluate` in one element whose value is `value`, written by
        /// `set`; the element is restored exactly.
        func numeric(_ value: Float, _ set: (Float) -> Void, _ evaluate: () -> Double) -> Float {
            set(value + h)
            let plus = evaluate()
            set(value - h)
            let minus = evaluate()
            set(value)
            return Float((plus - minus) / Double(2 * h))
        }
        func error(_ analytic: Float, _ numeric: Float) -> Float { abs(numeric - analytic) / max(floor, abs(numeric)) }
        let inputGradient = tape.gradient(of: leaf)!
        var worstInput: Float = 0, worstParameter: Float = 0, checked = 0
        if inputElements > 0 {
            var probe = x
            for i in stride(from: 0, to: x.count, by: max(1, x.count / inputElements)) {
                worstInput = max(worstInput, error(inputGradient.scalars[i], numeric(x.scalars[i], { probe.scalars[i] = $0 }, { loss(probe) })))
            }
        }
        var missing: [String] = []
        for (key, parameter) in model.namedParameters {
            if parameter.gradient == nil { missing.append(key) }
            let analytic = parameter.gradient ?? Tensor(shape: parameter.value.shape)
            for i in stride(from: 0, to: parameter.value.count, by: max(1, parameter.value.count / parameterElements)) {
                worstParameter = max(
                    worstParameter, error(analytic.scalars[i], numeric(parameter.value.scalars[i], { parameter.value.scalars[i] = $0 }, { loss(x) })))
                checked += 1
            }
        }
        return Result(input: worstInput, parameters: worstParameter, checked: checked, missing: missing, inputGradient: inputGradient)
    }
}
