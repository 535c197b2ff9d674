import Spec
import Tensors

/// Average pooling (PyTorch's `nn.AvgPool2d` with its default `count_include_pad=True`: padded
/// positions count as zeros in every window's mean).
public enum AveragePooling: PoolingMode {
    public static let kind = "avgpool2d"
    public static let summary = "Average pooling over square windows, padding counted (PyTorch nn.AvgPool2d)."
    public static func pool(_ input: Variable, kernel: Int, stride: Int?, padding: Int) -> Variable {
        input.avgPool2d(kernel: kernel, stride: stride, padding: padding)
    }
}

public typealias AvgPool2dSpec = Pool2dSpec<AveragePooling>
public typealias AvgPool2d = Pool2d<AveragePooling>
