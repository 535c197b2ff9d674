import Spec
import Tensors

/// Vision transformer (Dosovitskiy et al., ICLR 2021), named as torchvision's
/// `torchvision.models.vision_transformer.VisionTransformer` names its modules (`conv_proj`,
/// `class_token`, `encoder.pos_embedding`, `encoder.layers.encoder_layer_0.self_attention`,
/// `encoder.ln`, `heads.head`), so its state dicts load into it.
///
/// The image is cut into `patch × patch` patches by a convolution of stride `patch` to `dim`
/// features (the side must be a multiple of `patch`), the patches become tokens, a learned class
/// token is prepended and a learned position embedding added, then dropout and `depth`
/// pre-norm encoder blocks: `x + dropout(attention(layernorm(x)))`, then
/// `x + mlp(layernorm(x))` with `mlp` = linear to `mlp_ratio · dim`, GELU, dropout, linear back,
/// dropout; a final layer norm (eps 1e-6, as torchvision's), and a linear head on the class
/// token.
public struct VisionTransformerSpec: ArchitectureSpec, Equatable {
    public static let kind = "vit"
    public static let summary = "Vision transformer: patch embedding, class token, pre-norm encoder blocks; torchvision's key names."
    public static let defaults = ["mlp_ratio": "4", "dropout": "0", "attention_dropout": "0"]
    /// The patch side in pixels, ≥ 1, dividing the image's sides.
    public var patch: Int
    /// Features per token, ≥ 1, a multiple of `heads`.
    public var dim: Int
    /// Encoder blocks, ≥ 1.
    public var depth: Int
    /// Attention heads per block, ≥ 1.
    public var heads: Int
    /// The MLP's hidden width as a multiple of `dim`, ≥ 1 (default 4).
    public var mlpRatio: Int?
    /// Dropout after the embedding and in every block, in [0, 1) (default 0).
    public var dropout: Float?
    /// Dropout of the attention weights, in [0, 1) (default 0).
    public var attentionDropout: Float?

    public init(patch: Int, dim: Int, depth: Int, heads: Int, mlpRatio: Int? = nil, dropout: Float? = nil, attentionDropout: Float? = nil) {
        self.patch = patch
        self.dim = dim
        self.depth = depth
        self.heads = heads
        self.mlpRatio = mlpRatio
        self.dropout = dropout
        self.attentionDropout = attentionDropout
    }

    public func problems() -> [String] {
        var found: [String] = []
        for (name, value) in [("patch", patch), ("dim", dim), ("depth", depth), ("heads", heads)] where value < 1 {
            found.append("\(name) must be ≥ 1, got \(value)")
        }
        if heads >= 1, dim % heads != 0 { found.append("dim must be a multiple of heads (\(heads)), got \(dim)") }
        if let mlpRatio, mlpRatio < 1 { found.append("mlp_ratio must be ≥ 1, got \(mlpRatio)") }
        for (name, value) in [("dropout", dropout), ("attention_dropout", attentionDropout)] {
            if let value, !(value >= 0 && value < 1) { found.append("\(name) must be in [0, 1), got \(value)") }
        }
        return found
    }

    public func nodes(inputShape: [Int], outputs: Int) throws(ModelError) -> [ModelNode] {
        guard problems().isEmpty else { throw .invalidParameter(layer: Self.kind, message: problems().joined(separator: "; ")) }
        guard inputShape.count == 3, inputShape[1] % patch == 0, inputShape[2] % patch == 0 else {
            throw .incompatibleInput(layer: Self.kind, expected: "images whose sides are multiples of patch (\(patch))", got: [1] + inputShape)
        }
        let tokens = (inputShape[1] / patch) * (inputShape[2] / patch)
        let p = dropout ?? 0
        var writer = NodeWriter()
        writer.add("conv_proj", Conv2dSpec(outChannels: dim, kernelSize: patch, stride: patch))
        writer.add("patches", ReshapeSpec(shape: [dim, tokens]))
        writer.add("tokens", PermuteSpec(dims: [1, 0]))
        writer.add("class_token", ClassTokenSpec())
        writer.add("encoder.pos_embedding", PositionEmbeddingSpec())
        writer.add("encoder.dropout", DropoutSpec(p: p))
        for block in 0..<depth {
            let prefix = "encoder.layers.encoder_layer_\(block)"
            let input = writer.last
            writer.add("\(prefix).ln_1", LayerNormSpec(eps: 1e-6))
            writer.add("\(prefix).self_attention", MultiheadAttentionSpec(heads: heads, dropout: attentionDropout))
            let attended = writer.add("\(prefix).dropout", DropoutSpec(p: p))
            let middle = writer.add("\(prefix).add_1", AddSpec(), inputs: [attended, input])
            writer.add("\(prefix).ln_2", LayerNormSpec(eps: 1e-6))
            writer.add("\(prefix).mlp.0", LinearSpec(outFeatures: dim * (mlpRatio ?? 4)))
            writer.add("\(prefix).mlp.1", GELUSpec())
            writer.add("\(prefix).mlp.2", DropoutSpec(p: p))
            writer.add("\(prefix).mlp.3", LinearSpec(outFeatures: dim))
            let mlp = writer.add("\(prefix).mlp.4", DropoutSpec(p: p))
            writer.add("\(prefix).add_2", AddSpec(), inputs: [middle, mlp])
        }
        writer.add("encoder.ln", LayerNormSpec(eps: 1e-6))
        writer.add("class_output", SliceSpec(dim: 0, start: 0, end: 1))
        writer.add("flatten", FlattenSpec())
        writer.add("heads.head", LinearSpec(outFeatures: outputs))
        return writer.nodes
    }
}
