/// The sizes of one 2-D convolution or pooling window over an NCHW batch.
///
/// Output extent per axis: `(input + 2·padding − kernel) / stride + 1` (floor), as in PyTorch.
public struct Conv2dGeometry: Sendable, Equatable {
    public var batch: Int
    public var inChannels: Int
    public var height: Int
    public var width: Int
    public var outChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: Int
    public var padding: Int

    public init(
        batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int,
        kernelHeight: Int, kernelWidth: Int, stride: Int = 1, padding: Int = 0
    ) {
        self.batch = batch
        self.inChannels = inChannels
        self.height = height
        self.width = width
        self.outChannels = outChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Elements of one receptive field: `inChannels · kernelHeight · kernelWidth`.
    public var patchSize: Int { inChannels * kernelHeight * kernelWidth }
    public var inputShape: [Int] { [batch, inChannels, height, width] }
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }
    public var weightShape: [Int] { [outChannels, inChannels, kernelHeight, kernelWidth] }
    /// Stride 1 with the output as large as the input ("same" padding): the kernel is then odd,
    /// `2·padding + 1` on both sides, and each patch row is the input plane shifted.
    public var isSamePadding: Bool { stride == 1 && outHeight == height && outWidth == width }
    /// Whether the window fits the padded input at least once.
    public var isValid: Bool {
        stride > 0 && padding >= 0 && kernelHeight > 0 && kernelWidth > 0
            && height + 2 * padding >= kernelHeight && width + 2 * padding >= kernelWidth
    }
}
