import Spec
import Tensors

/// Residual networks with basic blocks (He, Zhang, Ren & Sun, CVPR 2016), named as
/// torchvision's `torchvision.models.resnet.ResNet` names its modules (`conv1`, `bn1`,
/// `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`), so a state dict of that implementation
/// loads into it.
///
/// - ImageNet style, depths 18 and 34 (torchvision's `resnet18`, `resnet34`): a 7×7 stride-2
///   stem, 3×3 stride-2 max pooling, four stages of widths `w, 2w, 4w, 8w` (w = `width`,
///   default 64) with [2, 2, 2, 2] or [3, 4, 6, 3] blocks.
/// - CIFAR style, depths 6n + 2 (20, 32, 44, 56, 110; the paper's §4.2 network): a 3×3 stem,
///   no pooling, three stages of widths `w, 2w, 4w` (default w = 16) with n blocks each.
///   Shortcuts that change shape are 1×1 convolutions with batch norm (torchvision's
///   `downsample`; the paper's option B).
///
/// A block: conv3×3 (stride 2 at the first block of every stage but the first) → BN → ReLU →
/// conv3×3 → BN, plus the shortcut, → ReLU. Then global average pooling and a linear layer.
/// The input channels are the dataset's.
public struct ResNetSpec: ArchitectureSpec, Equatable {
    public static let kind = "resnet"
    public static let summary =
        "Residual network with basic blocks: ImageNet style (depth 18, 34) or CIFAR style (depth 20, 32, 44, 56, 110); torchvision's key names."
    public static let defaults = ["width": "64 for depths 18 and 34, 16 for CIFAR depths"]
    /// 18 or 34 (ImageNet style), or 6n + 2 for n ≥ 1 (CIFAR style: 20, 32, 44, 56, 110, …).
    public var depth: Int
    /// Channels of the first stage, ≥ 1 (default 64 ImageNet style, 16 CIFAR style).
    public var width: Int?

    public init(depth: Int, width: Int? = nil) {
        self.depth = depth
        self.width = width
    }

    var isImageNetStyle: Bool { depth == 18 || depth == 34 }

    /// Blocks per stage.
    var stages: [Int] {
        switch depth {
        case 18: [2, 2, 2, 2]
        case 34: [3, 4, 6, 3]
        default: [Int](repeating: (depth - 2) / 6, count: 3)
        }
    }

    public func problems() -> [String] {
        var found: [String] = []
        if !isImageNetStyle && !(depth >= 8 && (depth - 2) % 6 == 0) {
            found.append("depth must be 18 or 34 (ImageNet style) or 6n + 2 (CIFAR style: 20, 32, 44, 56, 110), got \(depth)")
        }
        if let width, width < 1 { found.append("width must be ≥ 1, got \(width)") }
        return found
    }

    public func nodes(inputShape: [Int], outputs: Int) throws(ModelError) -> [ModelNode] {
        guard problems().isEmpty else { throw .invalidParameter(layer: Self.kind, message: problems().joined(separator: "; ")) }
        let base = width ?? (isImageNetStyle ? 64 : 16)
        var writer = NodeWriter()
        if isImageNetStyle {
            writer.conv("conv1", base, kernel: 7, stride: 2)
        } else {
            writer.conv("conv1", base)
        }
        writer.add("bn1", BatchNorm2dSpec())
        writer.add("relu", ReLUSpec())
        if isImageNetStyle { writer.add("maxpool", MaxPool2dSpec(kernelSize: 3, stride: 2, padding: 1)) }
        var channels = base
        for (stage, blocks) in stages.enumerated() {
            let planes = base << stage
            for block in 0..<blocks {
                let prefix = "layer\(stage + 1).\(block)"
                let stride = block == 0 && stage > 0 ? 2 : 1
                let input = writer.last
                writer.conv("\(prefix).conv1", planes, stride: stride)
                writer.add("\(prefix).bn1", BatchNorm2dSpec())
                writer.add("\(prefix).relu", ReLUSpec())
                writer.conv("\(prefix).conv2", planes)
                let branch = writer.add("\(prefix).bn2", BatchNorm2dSpec())
                var shortcut = input
                if stride != 1 || channels != planes {
                    writer.conv("\(prefix).downsample.0", planes, kernel: 1, stride: stride, inputs: [input])
                    shortcut = writer.add("\(prefix).downsample.1", BatchNorm2dSpec())
                }
                writer.add("\(prefix).add", AddSpec(), inputs: [shortcut, branch])
                writer.add("\(prefix).relu2", ReLUSpec())
                channels = planes
            }
        }
        writer.add("avgpool", AdaptiveAvgPool2dSpec())
        writer.add("flatten", FlattenSpec())
        writer.add("fc", LinearSpec(outFeatures: outputs))
        return writer.nodes
    }
}
