import Datasets
import Tensors
import Testing

/// Random crops with zero padding and horizontal flips: every output is one of the
/// (2p + 1)² · 2 shifted and mirrored copies of its input, enumerated here independently; every
/// shift and both flips occur; a seed gives the same images.
@Suite struct AugmentationTests {
    /// Image n, channel c, pixel (i, j): 1 + n·1000 + c·100 + i·10 + j (never 0, so padding shows).
    static func images(_ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Tensor {
        var t = Tensor(shape: [n, c, h, w])
        for s in 0..<n {
            for ch in 0..<c { for i in 0..<h { for j in 0..<w { t.scalars[((s * c + ch) * h + i) * w + j] = Float(1 + s * 1000 + ch * 100 + i * 10 + j) } } }
        }
        return t
    }

    /// The shift and flip that turn `input` sample `s` into `output` sample `s`, if any.
    static func transform(_ input: Tensor, _ output: Tensor, sample s: Int, padding p: Int) -> (dy: Int, dx: Int, flip: Bool)? {
        let (c, h, w) = (input.shape[1], input.shape[2], input.shape[3])
        for dy in -p...p {
            for dx in -p...p {
                for flip in [false, true] {
                    var equal = true
                    for ch in 0..<c where equal {
                        for i in 0..<h where equal {
                            for j in 0..<w {
                                let y = i + dy, x = (flip ? w - 1 - j : j) + dx
                                let expected = y >= 0 && y < h && x >= 0 && x < w ? input.scalars[((s * c + ch) * h + y) * w + x] : 0
                                if output.scalars[((s * c + ch) * h + i) * w + j] != expected {
                                    equal = false
                                    break
                                }
                            }
                        }
                    }
                    if equal { return (dy, dx, flip) }
                }
            }
        }
        return nil
    }

    @Test func cropsAndFlipsAreShiftedMirroredCopies() {
        let input = Self.images(400, 2, 5, 6)
        var rng = RandomSource(seed: 9)
        let output = Augmentation.apply(input, padding: 2, flip: true, rng: &rng)
        var seen = Set<String>()
        var flips = 0
        for s in 0..<400 {
            guard let found = Self.transform(input, output, sample: s, padding: 2) else {
                Issue.record("sample \(s) is not a shifted, mirrored copy of its input")
                return
            }
            seen.insert("\(found.dy),\(found.dx)")
            if found.flip { flips += 1 }
        }
        #expect(seen.count == 25, "every offset in -2…2 on both axes occurs")
        #expect((160...240).contains(flips), "about half are mirrored: \(flips) of 400")
        var again = RandomSource(seed: 9)
        #expect(Augmentation.apply(input, padding: 2, flip: true, rng: &again) == output)
        var other = RandomSource(seed: 10)
        #expect(Augmentation.apply(input, padding: 2, flip: true, rng: &other) != output)
        var plain = RandomSource(seed: 1)
        #expect(Augmentation.apply(input, padding: 0, flip: false, rng: &plain) == input)
        // Flips alone keep every pixel and mirror about half of the images.
        let mirrored = Augmentation.apply(input, padding: 0, flip: true, rng: &plain)
        #expect((0..<400).allSatisfy { Self.transform(input, mirrored, sample: $0, padding: 0).map { $0.dy == 0 && $0.dx == 0 } ?? false })
    }
}
