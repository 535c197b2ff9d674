import Spec
import Tensors

/// Max pooling (PyTorch's `nn.MaxPool2d`): the largest value of each window; padding never wins.
public enum MaxPooling: PoolingMode {
    public static let kind = "maxpool2d"
    public static let summary = "Max pooling over square windows (PyTorch nn.MaxPool2d)."
    public static func pool(_ input: Variable, kernel: Int, stride: Int?, padding: Int) -> Variable {
        input.maxPool2d(kernel: kernel, stride: stride, padding: padding)
    }
}

public typealias MaxPool2dSpec = Pool2dSpec<MaxPooling>
public typealias MaxPool2d = Pool2d<MaxPooling>
