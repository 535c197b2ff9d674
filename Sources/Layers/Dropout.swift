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

extension Variable {
    /// Inverted dropout with probability `p` outside inference mode (training and MC-dropout
    /// passes), drawing the whole batch's mask (or this part's rows of it) from the context's
    /// generator; the identity in inference mode.
    public func dropout(p: Float, context: inout ForwardContext) -> Variable {
        let input = self
        guard context.mode != .inference, p > 0 else { return input }
        let count = input.shape.reduce(1, *)
        // The whole batch's mask, or this part's rows of it.
        var (whole, elements) = (count, 0..<count)
        if let (rows, batch) = context.batchPart {
            let inner = count / max(1, input.shape[0])
            precondition(rows.count == input.shape[0], "dropout: \(input.shape[0]) samples for rows \(rows)")
            (whole, elements) = (batch * inner, rows.lowerBound * inner..<rows.upperBound * inner)
        }
        let (output, mask) = context.rng.dropout(input.value, count: whole, p: p, keep: 1 / (1 - p), elements: elements)
        return input.masked(by: mask, output: output)
    }
}
