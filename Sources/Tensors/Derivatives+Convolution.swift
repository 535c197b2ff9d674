import Foundation

/// The sizes of a general 2-D convolution over an NCHW batch: per-axis stride and dilation,
/// padding per side, and channel groups (PyTorch's `nn.Conv2d` with `groups` and `dilation`;
/// ONNX's `Conv` with `pads`). The weight is `[outChannels, inChannels / groups, kh, kw]`.
///
/// Output extent per axis: `(input + padBefore + padAfter − dilation·(kernel − 1) − 1) / stride + 1`
/// (floor).
public struct ConvolutionGeometry: Sendable, Equatable {
    public var batch: Int
    public var inChannels: Int
    public var height: Int
    public var width: Int
    public var outChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: (height: Int, width: Int)
    public var dilation: (height: Int, width: Int)
    /// Zeros added at the top, left, bottom and right.
    public var pads: (top: Int, left: Int, bottom: Int, right: Int)
    public var groups: Int

    public init(
        batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
        stride: (height: Int, width: Int) = (1, 1), dilation: (height: Int, width: Int) = (1, 1),
        pads: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0), groups: Int = 1
    ) {
        self.batch = batch
        self.inChannels = inChannels
        self.height = height
        self.width = width
        self.outChannels = outChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.dilation = dilation
        self.pads = pads
        self.groups = groups
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.batch == b.batch && a.inChannels == b.inChannels && a.height == b.height && a.width == b.width && a.outChannels == b.outChannels
            && a.kernelHeight == b.kernelHeight && a.kernelWidth == b.kernelWidth && a.stride == b.stride && a.dilation == b.dilation
            && a.pads == b.pads && a.groups == b.groups
    }

    public var outHeight: Int { (height + pads.top + pads.bottom - dilation.height * (kernelHeight - 1) - 1) / stride.height + 1 }
    public var outWidth: Int { (width + pads.left + pads.right - dilation.width * (kernelWidth - 1) - 1) / stride.width + 1 }
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }
    public var weightShape: [Int] { [outChannels, inChannels / groups, kernelHeight, kernelWidth] }
    /// Rows of one group's patch matrix: `inChannels / groups · kh · kw`.
    var patchSize: Int { inChannels / groups * kernelHeight * kernelWidth }
    /// Whether the geometry describes a convolution: positive sizes, groups dividing both channel
    /// counts, and a window that fits the padded input.
    public var isValid: Bool {
        [stride.height, stride.width, dilation.height, dilation.width, kernelHeight, kernelWidth, groups].allSatisfy { $0 > 0 }
            && [pads.top, pads.left, pads.bottom, pads.right].allSatisfy { $0 >= 0 }
            && inChannels % groups == 0 && outChannels % groups == 0
            && height + pads.top + pads.bottom >= dilation.height * (kernelHeight - 1) + 1
            && width + pads.left + pads.right >= dilation.width * (kernelWidth - 1) + 1
    }
}

extension Variable {
    /// A general 2-D convolution (`ConvolutionGeometry`): x `[N, C, H, W]`, weight
    /// `[O, C/groups, kh, kw]`, bias `[O]`. Each sample and group is one product of the weight
    /// with the group's patch matrix (im2col); the backward pass scatters the patches' gradient
    /// back (col2im).
    public func convolution(weight: Variable, bias: Variable?, geometry g: ConvolutionGeometry) -> Variable {
        let x = value, w = weight.value
        precondition(g.isValid && x.shape == [g.batch, g.inChannels, g.height, g.width] && w.shape == g.weightShape, "convolution: \(x.shape) with \(w.shape)")
        let y = Kernels.convolution(x, weight: w, bias: bias?.value, geometry: g)
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return tape.record(y, inputs: inputs) { dy, needed in
            let (dx, dw) = Kernels.convolutionBackward(dy, input: x, weight: w, geometry: g, needInput: needed[0], needWeight: needed[1])
            guard needed.count == 3 else { return [dx, dw] }
            var db = Tensor(shape: [g.outChannels])
            if needed[2] {
                let plane = g.outHeight * g.outWidth
                for n in 0..<g.batch {
                    for o in 0..<g.outChannels {
                        var sum: Float = 0
                        for i in 0..<plane { sum += dy.scalars[(n * g.outChannels + o) * plane + i] }
                        db.scalars[o] += sum
                    }
                }
            }
            return [dx, dw, needed[2] ? db : nil]
        }
    }
}

extension Kernels {
    /// The patch matrix of sample `n`, group `group`: row `(c, i, j)` (the group's channel and the
    /// kernel offset), column `(oy, ox)`, zero where the window reads padding.
    static func patches(_ x: UnsafePointer<Float>, sample n: Int, group: Int, _ g: ConvolutionGeometry, into columns: UnsafeMutablePointer<Float>) {
        let cg = g.inChannels / g.groups, (oh, ow) = (g.outHeight, g.outWidth)
        var row = 0
        for c in 0..<cg {
            let plane = x + ((n * g.inChannels) + group * cg + c) * g.height * g.width
            for i in 0..<g.kernelHeight {
                for j in 0..<g.kernelWidth {
                    let out = columns + row * oh * ow
                    for oy in 0..<oh {
                        let y = oy * g.stride.height - g.pads.top + i * g.dilation.height
                        for ox in 0..<ow {
                            let xx = ox * g.stride.width - g.pads.left + j * g.dilation.width
                            out[oy * ow + ox] = y >= 0 && y < g.height && xx >= 0 && xx < g.width ? plane[y * g.width + xx] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// Adds the patch matrix's gradient back into sample `n`'s input gradient (the adjoint of
    /// `patches`).
    static func scatterPatches(_ columns: UnsafePointer<Float>, sample n: Int, group: Int, _ g: ConvolutionGeometry, into dx: UnsafeMutablePointer<Float>) {
        let cg = g.inChannels / g.groups, (oh, ow) = (g.outHeight, g.outWidth)
        var row = 0
        for c in 0..<cg {
            let plane = dx + ((n * g.inChannels) + group * cg + c) * g.height * g.width
            for i in 0..<g.kernelHeight {
                for j in 0..<g.kernelWidth {
                    let column = columns + row * oh * ow
                    for oy in 0..<oh {
                        let y = oy * g.stride.height - g.pads.top + i * g.dilation.height
                        guard y >= 0 && y < g.height else { continue }
                        for ox in 0..<ow {
                            let xx = ox * g.stride.width - g.pads.left + j * g.dilation.width
                            if xx >= 0 && xx < g.width { plane[y * g.width + xx] += column[oy * ow + ox] }
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// `Variable.convolution`'s forward pass.
    public static func convolution(_ x: Tensor, weight w: Tensor, bias: Tensor?, geometry g: ConvolutionGeometry) -> Tensor {
        let og = g.outChannels / g.groups, positions = g.outHeight * g.outWidth, k = g.patchSize
        var y = Tensor(shape: g.outputShape)
        var columns = [Float](repeating: 0, count: k * positions)
        x.scalars.withUnsafeBufferPointer { px in
            w.scalars.withUnsafeBufferPointer { pw in
                y.scalars.withUnsafeMutableBufferPointer { py in
                    columns.withUnsafeMutableBufferPointer { pc in
                        for n in 0..<g.batch {
                            for group in 0..<g.groups {
                                patches(px.baseAddress!, sample: n, group: group, g, into: pc.baseAddress!)
                                BLAS.sgemm(
                                    transposeA: false, transposeB: false, m: og, n: positions, k: k,
                                    a: pw.baseAddress! + group * og * k, lda: k, b: pc.baseAddress!, ldb: positions,
                                    c: py.baseAddress! + (n * g.outChannels + group * og) * positions, ldc: positions)
                            }
                        }
                    }
                }
            }
        }
        if let bias {
            for n in 0..<g.batch {
                for o in 0..<g.outChannels { for i in 0..<positions { y.scalars[(n * g.outChannels + o) * positions + i] += bias.scalars[o] } }
            }
        }
        return y
    }

    /// The gradients of `convolution` with respect to its input and weight (each when asked).
    public static func convolutionBackward(
        _ dy: Tensor, input x: Tensor, weight w: Tensor, geometry g: ConvolutionGeometry, needInput: Bool, needWeight: Bool
    ) -> (input: Tensor?, weight: Tensor?) {
        let og = g.outChannels / g.groups, positions = g.outHeight * g.outWidth, k = g.patchSize
        var dx = needInput ? Tensor(shape: x.shape) : nil
        var dw = needWeight ? Tensor(shape: w.shape) : nil
        var columns = [Float](repeating: 0, count: k * positions)
        x.scalars.withUnsafeBufferPointer { px in
            w.scalars.withUnsafeBufferPointer { pw in
                dy.scalars.withUnsafeBufferPointer { pdy in
                    columns.withUnsafeMutableBufferPointer { pc in
                        for n in 0..<g.batch {
                            for group in 0..<g.groups {
                                let upstream = pdy.baseAddress! + (n * g.outChannels + group * og) * positions
                                if needWeight {
                                    patches(px.baseAddress!, sample: n, group: group, g, into: pc.baseAddress!)
                                    dw!.scalars.withUnsafeMutableBufferPointer { pdw in
                                        BLAS.sgemm(
                                            transposeA: false, transposeB: true, m: og, n: k, k: positions,
                                            a: upstream, lda: positions, b: pc.baseAddress!, ldb: positions,
                                            beta: 1, c: pdw.baseAddress! + group * og * k, ldc: k)
                                    }
                                }
                                if needInput {
                                    BLAS.sgemm(
                                        transposeA: true, transposeB: false, m: k, n: positions, k: og,
                                        a: pw.baseAddress! + group * og * k, lda: k, b: upstream, ldb: positions,
                                        c: pc.baseAddress!, ldc: positions)
                                    dx!.scalars.withUnsafeMutableBufferPointer { pdx in
                                        scatterPatches(pc.baseAddress!, sample: n, group: group, g, into: pdx.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx, dw)
    }
}

extension ReferenceKernels {
    /// A general convolution by its definition, one multiply-add at a time (the tests' oracle).
    public static func convolution(_ x: Tensor, weight w: Tensor, bias: Tensor?, geometry g: ConvolutionGeometry) -> Tensor {
        var y = Tensor(shape: g.outputShape)
        let cg = g.inChannels / g.groups, og = g.outChannels / g.groups
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                let group = o / og
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        var sum = Double(bias?.scalars[o] ?? 0)
                        for c in 0..<cg {
                            for i in 0..<g.kernelHeight {
                                for j in 0..<g.kernelWidth {
                                    let yy = oy * g.stride.height - g.pads.top + i * g.dilation.height
                                    let xx = ox * g.stride.width - g.pads.left + j * g.dilation.width
                                    guard yy >= 0 && yy < g.height && xx >= 0 && xx < g.width else { continue }
                                    let input = x.scalars[((n * g.inChannels + group * cg + c) * g.height + yy) * g.width + xx]
                                    sum += Double(input) * Double(w.scalars[((o * cg + c) * g.kernelHeight + i) * g.kernelWidth + j])
                                }
                            }
                        }
                        y.scalars[((n * g.outChannels + o) * g.outHeight + oy) * g.outWidth + ox] = Float(sum)
                    }
                }
            }
        }
        return y
    }
}
