import Tensors

/// Random crops with zero padding and horizontal flips of a batch of images `[N, C, H, W]`
/// (`training.augmentation`; torchvision's `RandomCrop(size, padding)` then
/// `RandomHorizontalFlip()`): per image, offsets dy and dx uniform in −padding…padding and a
/// flip with probability 1/2, drawn in that order from `rng`; output pixel (c, i, j) is the
/// input's pixel (c, i + dy, j' + dx), zero outside the image, with j' = W − 1 − j when
/// flipped and j otherwise.
public enum Augmentation {
    public static func apply(_ images: Tensor, padding: Int, flip: Bool, rng: inout RandomSource) -> Tensor {
        precondition(images.rank == 4, "augmentation of \(images.shape): images [N, C, H, W]")
        guard padding > 0 || flip else { return images }
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        var output = Tensor(shape: images.shape)
        images.scalars.withUnsafeBufferPointer { source in
            output.scalars.withUnsafeMutableBufferPointer { target in
                for sample in 0..<n {
                    let dy = padding > 0 ? rng.nextIndex(below: 2 * padding + 1) - padding : 0
                    let dx = padding > 0 ? rng.nextIndex(below: 2 * padding + 1) - padding : 0
                    let mirrored = flip && rng.next() & 1 == 1
                    for channel in 0..<c {
                        let plane = (sample * c + channel) * h * w
                        for i in 0..<h {
                            let y = i + dy
                            guard y >= 0, y < h else { continue }
                            for j in 0..<w {
                                let x = (mirrored ? w - 1 - j : j) + dx
                                if x >= 0, x < w { target[plane + i * w + j] = source[plane + y * w + x] }
                            }
                        }
                    }
                }
            }
        }
        return output
    }
}
