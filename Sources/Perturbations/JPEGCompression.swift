import Datasets
import Spec
import Tensors

/// JPEG compression artefacts: each image is quantised to 8 bits, encoded as a baseline JPEG at
/// `quality` with libjpeg-turbo (grayscale, or RGB with 4:2:0 chroma subsampling as PIL does by
/// default) and decoded back.
///
/// Hendrycks & Dietterich (ICLR 2019), "JPEG compression". Severities 1–5, quality:
/// CIFAR-10-C 80, 65, 58, 50, 40; ImageNet-C 25, 18, 15, 10, 7. `quality` in 1–100 replaces a severity.
public struct JPEGCompression: Corruption, Equatable {
    public static let kind = "jpeg_compression"
    public static let defaults = ["severity": "none (give severity or the explicit parameters)", "quality": "from severity"]
    public static let summary = "JPEG encode and decode with libjpeg-turbo: severity 1–5 or quality 1–100."
    public static let table = SeverityTable<Int>(cifar: [80, 65, 58, 50, 40], imagenet: [25, 18, 15, 10, 7])
    public var severity: Int?
    /// JPEG quality, 1–100 (higher keeps more detail).
    public var quality: Int?

    public init(severity: Int? = nil, quality: Int? = nil) {
        self.severity = severity
        self.quality = quality
    }

    public func problems() -> [String] {
        var found = Strength.problems(severity: severity, explicit: [("quality", quality != nil)])
        if let quality, !(1...100).contains(quality) { found.append("quality must be 1–100, got \(quality)") }
        return found
    }

    public func problems(sampleShape: [Int]) -> [String] {
        sampleShape.count == 3 && [1, 3].contains(sampleShape[0])
            ? []
            : ["jpeg_compression needs grayscale or RGB images [1 or 3, height, width]; the dataset's samples are \(shapeText(sampleShape))"]
    }

    public var label: String { Strength.label(Self.kind, severity: severity, [("quality", quality.map(Float.init))]) }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        let quality = self.quality ?? Self.table.value(severity ?? 1, imageShape: images.shape)
        let (channels, height, width) = images.imageGeometry
        let size = height * width
        let codec = ImageCodec()
        var pixels = [UInt8](repeating: 0, count: size * channels)
        return images.mappingImages(&rng) { image, _ in
            // Planar floats to interleaved bytes, rounded as an 8-bit image file would store them.
            for p in 0..<size {
                for c in 0..<channels { pixels[p * channels + c] = UInt8((clip01(image[c * size + p]) * 255).rounded()) }
            }
            let encoded = codec.encodeJPEG(pixels, width: width, height: height, channels: channels, quality: quality)
            switch Result(catching: { () throws(DatasetError) in try codec.decode(encoded, channels: channels, path: "jpeg_compression") }) {
            case .success(let decoded): pixels = decoded.pixels
            case .failure(let error): preconditionFailure("libjpeg-turbo could not decode its own image: \(error)")
            }
            for p in 0..<size {
                for c in 0..<channels { image[c * size + p] = Float(pixels[p * channels + c]) / 255 }
            }
        }
    }
}
