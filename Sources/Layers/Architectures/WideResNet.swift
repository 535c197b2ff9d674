import Spec
import Tensors

/// Wide residual networks WRN-depth-k (Zagoruyko & Komodakis, BMVC 2016) with pre-activation
/// blocks, named as RobustBench's `robustbench.model_zoo.architectures.wide_resnet.WideResNet`
/// names its modules (`conv1`, `block1.layer.0.bn1`, `block2.layer.0.convShortcut`, `bn1`,
/// `fc`), so its state dicts (WRN-28-10 is RobustBench's CIFAR-10 baseline) load into it.
///
/// A 3×3 stem of 16 channels, three groups of n = (depth − 4) / 6 blocks of widths 16k, 32k,
/// 64k (strides 1, 2, 2), batch norm, ReLU, global average pooling (RobustBench pools 8×8, the
/// whole map of a 32×32 input) and a linear layer. A block: BN → ReLU → conv3×3 (stride) →
/// BN → ReLU → dropout (`dropout`, default 0) → conv3×3, plus the shortcut: the block's input
/// when the shape is kept, else a 1×1 convolution of the activated input (`convShortcut`).
public struct WideResNetSpec: ArchitectureSpec, Equatable {
    public static let kind = "wide_resnet"
    public static let summary = "Wide residual network WRN-depth-widen_factor with pre-activation blocks; RobustBench's key names."
    public static let defaults = ["widen_factor": "1", "dropout": "0"]
    /// 6n + 4 for n ≥ 1 (10, 16, 22, 28, 34, 40, …).
    public var depth: Int
    /// The width multiplier k, ≥ 1 (default 1; WRN-28-10 has 10).
    public var widenFactor: Int?
    /// Dropout probability between a block's convolutions, in [0, 1) (default 0).
    public var dropout: Float?

    public init(depth: Int, widenFactor: Int? = nil, dropout: Float? = nil) {
        self.depth = depth
        self.widenFactor = widenFactor
        self.dropout = dropout
    }

    public func problems() -> [String] {
        var found: [String] = []
        if !(depth >= 10 && (depth - 4) % 6 == 0) { found.append("depth must be 6n + 4 (10, 16, 22, 28, 34, 40, …), got \(depth)") }
        if let widenFactor, widenFactor < 1 { found.append("widen_factor must be ≥ 1, got \(widenFactor)") }
        if let dropout, !(dropout >= 0 && dropout < 1) { found.append("dropout must be in [0, 1), got \(dropout)") }
        return found
    }

    public func nodes(inputShape: [Int], outputs: Int) throws(ModelError) -> [ModelNode] {
        guard problems().isEmpty else { throw .invalidParameter(layer: Self.kind, message: problems().joined(separator: "; ")) }
        let k = widenFactor ?? 1, blocks = (depth - 4) / 6
        var writer = NodeWriter()
        writer.conv("conv1", 16)
        var channels = 16
        for (group, planes) in [16 * k, 32 * k, 64 * k].enumerated() {
            for block in 0..<blocks {
                let prefix = "block\(group + 1).layer.\(block)"
                let stride = block == 0 && group > 0 ? 2 : 1
                let keepsShape = channels == planes && stride == 1
                let input = writer.last
                writer.add("\(prefix).bn1", BatchNorm2dSpec())
                let activated = writer.add("\(prefix).relu1", ReLUSpec())
                writer.conv("\(prefix).conv1", planes, stride: stride)
                writer.add("\(prefix).bn2", BatchNorm2dSpec())
                writer.add("\(prefix).relu2", ReLUSpec())
                if let dropout, dropout > 0 { writer.add("\(prefix).dropout", DropoutSpec(p: dropout)) }
                let branch = writer.conv("\(prefix).conv2", planes)
                let shortcut =
                    keepsShape ? input : writer.conv("\(prefix).convShortcut", planes, kernel: 1, stride: stride, inputs: [activated])
                writer.add("\(prefix).add", AddSpec(), inputs: [shortcut, branch])
                channels = planes
            }
        }
        writer.add("bn1", BatchNorm2dSpec())
        writer.add("relu", ReLUSpec())
        writer.add("avgpool", AdaptiveAvgPool2dSpec())
        writer.add("flatten", FlattenSpec())
        writer.add("fc", LinearSpec(outFeatures: outputs))
        return writer.nodes
    }
}
