import Spec
import Tensors

/// Test images of classes held out of training: the near-OOD benchmark of open-set recognition
/// (for example one Fashion-MNIST class never seen in training). Naming this set removes the
/// classes from the training, validation and test splits of every trial of the experiment
/// (the model keeps one output per class of the dataset; the held-out ones are never the
/// target), and the OOD images are the test images of those classes, in test order.
public struct HeldOutClasses: OutOfDistributionSource, Equatable {
    public static let kind = "held_out_classes"
    public static let defaults = ["samples": "every test image of the held-out classes"]
    public static let summary = "Test images of dataset classes removed from training, validation and test (near-OOD)."
    /// The class indices held out, each in 0..<classes of the dataset, at least one class left.
    public var classes: [Int]
    /// At most this many images, ≥ 1 (default: every test image of the held-out classes).
    public var samples: Int?

    public init(classes: [Int], samples: Int? = nil) {
        self.classes = classes
        self.samples = samples
    }

    public var label: String { "\(Self.kind)(classes=\(classes.map(String.init).joined(separator: ",")))" }
    public var heldOutClasses: [Int] { classes }

    public func problems() -> [String] {
        var found = samplesProblems(samples)
        if classes.isEmpty { found.append("classes must name at least one class") }
        if Set(classes).count != classes.count { found.append("classes lists a class twice") }
        if let negative = classes.first(where: { $0 < 0 }) { found.append("classes must be ≥ 0, got \(negative)") }
        return found
    }

    /// The first `count` samples of `reference` (the full test split) whose class is held out.
    public func images(count: Int, like reference: ImageDataset, rng: inout RandomSource) -> Tensor {
        let held = Set(classes)
        let indices = reference.labels.indices.filter { held.contains(reference.labels[$0]) }.prefix(count)
        return reference.subset(Array(indices)).images
    }
}
