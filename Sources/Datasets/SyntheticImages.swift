import Tensors

/// A small synthetic image classification set for tests and demos that need no download.
///
/// Each class has a fixed random template of bright pixels; a sample is its class template
/// plus Gaussian noise, clipped to [0, 1]. With the default noise the classes are separable
/// but not trivially so. Deterministic in `seed`.
public enum SyntheticImages {
    public static func make(
        count: Int, classCount: Int = 10, channels: Int = 1, side: Int = 12, noise: Float = 0.25, seed: UInt64
    ) -> ImageDataset {
        var templateRNG = RandomSource(seed: seed).derived("templates")
        let plane = channels * side * side
        let templates = (0..<classCount).map { _ in
            (0..<plane).map { _ in templateRNG.nextUnitFloat() < 0.3 ? Float(0.8) : Float(0.1) }
        }
        var rng = RandomSource(seed: seed).derived("samples")
        var images = Tensor(shape: [count, channels, side, side])
        var labels: [Int] = []
        for n in 0..<count {
            let label = rng.nextIndex(below: classCount)
            labels.append(label)
            for k in 0..<plane {
                images.scalars[n * plane + k] = min(1, max(0, templates[label][k] + noise * rng.normal()))
            }
        }
        return ImageDataset(images: images, labels: labels, classCount: classCount)
    }
}
