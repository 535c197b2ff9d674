/// Compares a tape's gradients with central finite differences.
///
/// The function is reduced to a scalar through a fixed random projection
/// `L = Σ f(x) ⊙ r`, so every output element contributes. Differences are taken in Float32
/// with step `h`; the loss is summed in Double. A gradient passes where
/// `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance · |numeric|`.
public struct GradientCheck {
    public var step: Float
    public var absoluteTolerance: Float
    public var relativeTolerance: Float

    public init(step: Float = 1e-2, absoluteTolerance: Float = 2e-3, relativeTolerance: Float = 2e-2) {
        self.step = step
        self.absoluteTolerance = absoluteTolerance
        self.relativeTolerance = relativeTolerance
    }

    /// One input's worst disagreement.
    public struct Finding: Sendable {
        public var input: Int
        public var element: Int
        public var analytic: Float
        public var numeric: Float
    }

    /// Runs the check; returns the elements that fail (empty when all agree).
    /// `function` builds the output from leaves that require gradients, in the order of `inputs`.
    public func failures(inputs: [Tensor], seed: UInt64 = 7, _ function: ([Variable]) -> Variable) -> [Finding] {
        var rng = RandomSource(seed: seed)
        let probeTape = Tape()
        let outputShape = function(inputs.map { probeTape.leaf($0, requiresGradient: true) }).shape
        let projection = Tensor.uniform(shape: outputShape, low: -1, high: 1, using: &rng)

        let tape = Tape()
        let leaves = inputs.map { tape.leaf($0, requiresGradient: true) }
        tape.backward(from: function(leaves), seed: projection)
        let analytic = leaves.map { tape.gradient(of: $0) ?? Tensor(shape: $0.shape) }

        func loss(_ values: [Tensor]) -> Double {
            let t = Tape()
            let out = function(values.map { t.leaf($0) }).value
            var total = 0.0
            for (a, b) in zip(out.scalars, projection.scalars) { total += Double(a) * Double(b) }
            return total
        }

        var found: [Finding] = []
        for (index, input) in inputs.enumerated() {
            for element in 0..<input.count {
                var values = inputs
                values[index].scalars[element] = input.scalars[element] + step
                let plus = loss(values)
                values[index].scalars[element] = input.scalars[element] - step
                let minus = loss(values)
                let numeric = Float((plus - minus) / (2 * Double(step)))
                let value = analytic[index].scalars[element]
                if abs(value - numeric) > absoluteTolerance + relativeTolerance * abs(numeric) {
                    found.append(Finding(input: index, element: element, analytic: value, numeric: numeric))
                }
            }
        }
        return found
    }
}
