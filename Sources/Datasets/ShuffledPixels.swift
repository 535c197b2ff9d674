import Spec
import Tensors

/// Test images with their pixels randomly permuted within each channel: the intensity
/// histogram of real data without its spatial structure, a harder OOD set than pure noise.
/// Image `i` is test image `i mod N`, each with its own seeded permutation.
public struct ShuffledPixels: OutOfDistributionSource, Equatable {
    public static let kind = "shuffled_pixels"
    public static let defaults = ["samples": "the test split's size"]
    public static let summary = "Test images with their pixels randomly permuted within each channel."
    /// Images drawn, ≥ 1 (default: the test split's size).
    public var samples: Int?

    public init(samples: Int? = nil) { self.samples = samples }

    public var label: String { Self.kind }
    public func problems() -> [String] { samplesProblems(samples) }

    public func images(count: Int, like reference: ImageDataset, rng: inout RandomSource) -> Tensor {
        let sampleShape = Array(reference.images.shape.dropFirst())
        let channels = sampleShape[0], plane = sampleShape.dropFirst().reduce(1, *)
        var out: [Float] = []
        out.reserveCapacity(count * channels * plane)
        for i in 0..<count {
            let source = reference.images.slice((i % reference.count)..<(i % reference.count + 1)).scalars
            for c in 0..<channels {
                var pixels = Array(source[c * plane..<(c + 1) * plane])
                for k in stride(from: plane - 1, to: 0, by: -1) { pixels.swapAt(k, rng.nextIndex(below: k + 1)) }
                out += pixels
            }
        }
        return Tensor(shape: [count] + sampleShape, scalars: out)
    }
}
