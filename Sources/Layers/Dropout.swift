import Spec
import Tensors

/// Inverted dropout (Srivastava et al., 2014; PyTorch's `nn.Dropout`): each element is zeroed
/// with probability `p` and the survivors scaled by `1/(1−p)`.
///
/// Active in `.training` and `.monteCarloDropout` modes, the identity in `.inference`. Masks come
/// from the forward context's seeded generator.
public struct DropoutSpec: LayerSpec, Equatable {
    public static let kind = "dropout"
    public static let defaults = ["p": "0.5"]
    public static let summary = "Inverted dropout with probability p; on in training and MC-dropout passes."
    /// Drop probability in [0, 1) (default 0.5, as PyTorch).
    public var p: Float = 0.5

    public init(p: Float = 0.5) { self.p = p }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        if let p = try c.decodeIfPresent(Float.self, forKey: .p) { self.p = p }
    }

    public func outputShape(for inputShape: [Int]) throws(ModelError) -> [Int] {
        guard p >= 0, p < 1 else { throw .invalidParameter(layer: Self.kind, message: "p must be in [0, 1), got \(p)") }
        return inputShape
    }

    public func makeLayer(inputShape: [Int], rng: inout RandomSource) throws(ModelError) -> any Layer {
        _ = try outputShape(for: inputShape)
        return Dropout(p: p)
    }
}

public final class Dropout: Layer {
    public let p: Float
    public init(p: Float) { self.p = p }

    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }

    public var drawsRandomNumbers: Bool { p > 0 }

    public func forward(_ input: Variable, context: inout ForwardContext) -> Variable {
        input.dropout(p: p, context: &context)
    }
}

extension ForwardContext {
    /// The elements of a dropout mask this pass draws for a tensor of `count` elements whose
    /// first axis has `samples` entries: the whole batch's mask (`whole` elements) and this
    /// part's rows of it.
    func dropoutElements(count: Int, samples: Int) -> (whole: Int, elements: Range<Int>) {
        guard let (rows, batch) = batchPart else { return (count, 0..<count) }
        let inner = count / max(1, samples)
        precondition(rows.count == samples, "dropout: \(samples) samples for rows \(rows)")
        return (batch * inner, rows.lowerBound * inner..<rows.upperBound * inner)
    }

    /// The inverted-dropout mask (0 or 1/(1 − p)) of a tensor of `shape` outside inference
    /// mode, drawn from this context's generator as `Variable.dropout` draws it; nil in
    /// inference mode or for p = 0.
    public mutating func dropoutMask(p: Float, shape: [Int]) -> Tensor? {
        guard mode != .inference, p > 0 else { return nil }
        let (whole, elements) = dropoutElements(count: shape.reduce(1, *), samples: shape[0])
        return Tensor(shape: shape, scalars: rng.dropoutMask(count: whole, p: p, keep: 1 / (1 - p), elements: elements))
    }
}

extension Variable {
    /// Inverted dropout with probability `p` outside inference mode (training and MC-dropout
    /// passes), drawing the whole batch's mask (or this part's rows of it) from the context's
    /// generator; the identity in inference mode.
    public func dropout(p: Float, context: inout ForwardContext) -> Variable {
        let input = self
        guard context.mode != .inference, p > 0 else { return input }
        let (whole, elements) = context.dropoutElements(count: input.shape.reduce(1, *), samples: input.shape[0])
        let (output, mask) = context.rng.dropout(input.value, count: whole, p: p, keep: 1 / (1 - p), elements: elements)
        return input.masked(by: mask, output: output)
    }
}
