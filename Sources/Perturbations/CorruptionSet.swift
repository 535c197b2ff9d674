import Datasets
import Foundation
import Spec
import Tensors

/// Precomputed corrupted test sets in the CIFAR-10-C / Tiny-ImageNet-C layout (Hendrycks &
/// Dietterich 2019) as a corruption (`type: corruption_set`): a folder with one
/// `<corruption>.npy` per corruption (uint8 images `[5·N, H, W, C]` or `[5·N, C, H, W]`, the N
/// corrupted test images of severity 1, then of severity 2, …) and `labels.npy` (the labels,
/// `[5·N]` or `[N]`). The evaluation sees the rows of `severity` in place of the test images,
/// which must be the set's test images in its order (the first of them when the test split is
/// shorter): the labels are compared before anything is evaluated. Reported as the corruption
/// type `corruption`, so mCE compares with published CIFAR-10-C numbers.
public struct CorruptionSet: Corruption, Equatable {
    public static let kind = "corruption_set"
    public static let defaults = ["severity": "none: give 1–5", "layout": "inferred from the shape (CIFAR-10-C: NHWC)"]
    public static let summary = "Precomputed corrupted test images in the CIFAR-10-C layout (<corruption>.npy, severities 1–5 stacked, labels.npy)."

    /// The folder of the set (a relative path is relative to the experiment file).
    public var path: String
    /// The corruption's file name without `.npy` (`fog`, `gaussian_noise`, …).
    public var corruption: String
    /// 1…5: which block of the file.
    public var severity: Int?
    public var layout: ArrayLayout?

    public init(path: String, corruption: String, severity: Int, layout: ArrayLayout? = nil) {
        self.path = path
        self.corruption = corruption
        self.severity = severity
        self.layout = layout
    }

    public var label: String { "\(corruption)(severity=\(severity ?? 0), precomputed)" }
    public var evaluationType: String { corruption }

    /// The same set with a relative path taken relative to `directory`.
    public func resolvingPaths(relativeTo directory: String) -> CorruptionSet {
        guard !path.hasPrefix("/") else { return self }
        var copy = self
        copy.path = URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
        return copy
    }

    var file: String { URL(fileURLWithPath: path).appendingPathComponent("\(corruption).npy").path }
    var labelsFile: String { URL(fileURLWithPath: path).appendingPathComponent("labels.npy").path }

    public func problems() -> [String] {
        guard let severity, (1...5).contains(severity) else { return ["severity must be in 1…5, got \(severity.map(String.init) ?? "none")"] }
        var found: [String] = []
        if !FileManager.default.fileExists(atPath: file) {
            let available = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".npy") && $0 != "labels.npy" }
                .map { String($0.dropLast(4)) }.sorted()
            found.append(
                FileManager.default.fileExists(atPath: path)
                    ? "corruption '\(corruption)' has no file \(file); the set's corruptions: \(available.joined(separator: ", "))"
                    : "path \(path): no such folder")
        } else if let header = try? NumpyFile.header(file).array,
            header.shape.count != 4 || header.shape[0] % 5 != 0 || header.descriptor.hasSuffix("u1") == false
        {
            found.append("\(file) holds \(header.descriptor) \(header.shape); a corruption file is uint8 [5·N, H, W, C] or [5·N, C, H, W]")
        }
        if found.isEmpty, !FileManager.default.fileExists(atPath: labelsFile) { found.append("\(labelsFile): no such file") }
        return found
    }

    /// The images' sample shape `[C, H, W]` and whether the file stores them channels last.
    func layout(of shape: [Int]) throws(DatasetError) -> (sample: [Int], channelsLast: Bool) {
        let channelsLast: Bool
        if let layout {
            channelsLast = layout == .nhwc
        } else {
            // CIFAR-10-C and Tiny-ImageNet-C store [N, H, W, C].
            channelsLast = [1, 3].contains(shape[3]) || ![1, 3].contains(shape[1])
        }
        return (channelsLast ? [shape[3], shape[1], shape[2]] : [shape[1], shape[2], shape[3]], channelsLast)
    }

    public func problems(sampleShape: [Int]) -> [String] {
        guard let header = try? NumpyFile.header(file).array, header.shape.count == 4, let (sample, _) = try? layout(of: header.shape) else { return [] }
        return sample == sampleShape ? [] : ["\(file) holds images of \(sample), the dataset's are \(sampleShape)"]
    }

    public func apply(to images: Tensor, rng: inout RandomSource) -> Tensor {
        preconditionFailure("corruption_set images are read from files (precomputedTestImages), not computed")
    }

    public func precomputedTestImages(labels: [Int], sampleShape: [Int]) throws -> PrecomputedImages? {
        let severity = self.severity ?? 1
        let header = try NumpyFile.header(file).array
        guard header.shape.count == 4, header.shape[0] % 5 == 0, header.descriptor.hasSuffix("u1") else {
            throw DatasetError.invalidData(file, "holds \(header.descriptor) \(header.shape); a corruption file is uint8 [5·N, H, W, C] or [5·N, C, H, W]")
        }
        let perSeverity = header.shape[0] / 5
        guard labels.count <= perSeverity else {
            throw DatasetError.invalidData(file, "holds \(perSeverity) images per severity; the test split has \(labels.count)")
        }
        let (sample, channelsLast) = try layout(of: header.shape)
        guard sample == sampleShape else { throw DatasetError.invalidData(file, "holds images of \(sample), the dataset's are \(sampleShape)") }
        // The set's labels for these rows must be the test split's.
        let stored = try NumpyFile.arrays(labelsFile).first?.value
        guard let stored, let values = stored.doubles(), stored.shape.first == header.shape[0] || stored.shape.first == perSeverity else {
            throw DatasetError.invalidData(labelsFile, "holds no label per image of \(file) (\(header.shape[0]) or \(perSeverity))")
        }
        let offset = stored.shape.first == header.shape[0] ? (severity - 1) * perSeverity : 0
        if let bad = labels.indices.first(where: { Int(values[offset + $0]) != labels[$0] }) {
            throw DatasetError.invalidData(
                labelsFile,
                "label \(Int(values[offset + bad])) of image \(bad) differs from the test split's \(labels[bad]): the set was made from other test images or another order (held-out classes, a shuffled test split?)"
            )
        }
        let rows = try NumpyFile.rows(file, ((severity - 1) * perSeverity)..<((severity - 1) * perSeverity + labels.count))
        guard channelsLast else { return PrecomputedImages(sampleShape: sample, bytes: rows.bytes) }
        let (c, h, w) = (sample[0], sample[1], sample[2])
        var planar = [UInt8](repeating: 0, count: rows.bytes.count)
        for n in 0..<labels.count {
            for p in 0..<(h * w) { for channel in 0..<c { planar[(n * c + channel) * h * w + p] = rows.bytes[(n * h * w + p) * c + channel] } }
        }
        return PrecomputedImages(sampleShape: sample, bytes: planar)
    }
}
