import Foundation
import Tensors

/// Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): 28×28 grayscale images of 10 clothing classes,
/// 60,000 for training and 10,000 for testing, in IDX files.
///
/// Found by default where Debian's `dataset-fashion-mnist` installs it; any directory with the
/// four standard file names (gzip-compressed or not) works.
public enum FashionMNIST {
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Loads one split (`train` or `t10k`) from `directory`.
    public static func load(split: Split, directory: String = defaultDirectory) throws(DatasetError) -> ImageDataset {
        try MNISTFamily.load(prefix: split.rawValue, directory: directory, classCount: 10)
    }

    public enum Split: String, Sendable {
        case train
        case test = "t10k"
    }
}

/// The file layout shared by MNIST-family datasets:
/// `<prefix>-images-idx3-ubyte[.gz]` and `<prefix>-labels-idx1-ubyte[.gz]`.
public enum MNISTFamily {
    public static func load(prefix: String, directory: String, classCount: Int) throws(DatasetError) -> ImageDataset {
        let imagesPath = try locate("\(directory)/\(prefix)-images-idx3-ubyte")
        let images = try IDXFile.read(imagesPath)
        let labelsPath = try locate("\(directory)/\(prefix)-labels-idx1-ubyte")
        let labels = try IDXFile.read(labelsPath)
        guard images.shape.count == 3 else { throw .malformed(imagesPath, "expected 3 axes (count, rows, columns), got \(images.shape.count)") }
        guard labels.shape.count == 1 else { throw .malformed(labelsPath, "expected 1 axis, got \(labels.shape.count)") }
        guard images.shape[0] == labels.shape[0] else {
            throw .malformed(labelsPath, "\(labels.shape[0]) labels for \(images.shape[0]) images in \(imagesPath)")
        }
        if let bad = labels.bytes.first(where: { Int($0) >= classCount }) {
            throw .malformed(labelsPath, "label \(bad) outside 0..<\(classCount)")
        }
        return ImageDataset(images: pixels(images), labels: labels.bytes.map(Int.init), classCount: classCount)
    }

    /// Checks that both files exist and start with a valid IDX header of the expected rank.
    public static func verify(prefix: String, directory: String) throws(DatasetError) {
        for (name, rank) in [("images-idx3-ubyte", 3), ("labels-idx1-ubyte", 1)] {
            let path = try locate("\(directory)/\(prefix)-\(name)")
            let header = try GzipFile.prefix(of: path, count: 4 + 4 * rank)
            try IDXFile.checkHeader(header, path: path)
            guard Int(header[3]) == rank else { throw .malformed(path, "expected \(rank) axes, got \(header[3])") }
        }
    }

    /// Prefers the compressed file, falls back to the plain one.
    static func locate(_ base: String) throws(DatasetError) -> String {
        for candidate in [base + ".gz", base] where FileManager.default.fileExists(atPath: candidate) { return candidate }
        throw .missingFile(base + ".gz")
    }

    /// Bytes to an NCHW tensor scaled to [0, 1] by `x / 255`.
    static func pixels(_ file: IDXFile) -> Tensor {
        var t = Tensor(shape: [file.shape[0], 1, file.shape[1], file.shape[2]])
        file.bytes.withUnsafeBufferPointer { src in
            t.scalars.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count { dst[i] = Float(src[i]) * (1 / 255) }
            }
        }
        return t
    }
}
