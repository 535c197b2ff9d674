import Foundation
import Layers
import Results
import Storage
import Tensors
import Testing

/// The built-in architectures against the PyTorch implementations their doc comments name:
/// fixtures written by `scripts/make_architecture_fixtures.py` (weights, inputs, logits and input
/// gradients from PyTorch) load through `models[].weights`' reader and are reproduced.
@Suite struct ArchitectureFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/architectures").path

    @Test(arguments: [
        ("resnet20-width4", ResNetSpec(depth: 20, width: 4) as any ArchitectureSpec),
        ("resnet18-width4", ResNetSpec(depth: 18, width: 4)),
        ("wide_resnet10-1", WideResNetSpec(depth: 10, widenFactor: 1)),
        ("vit-patch8-dim16-depth2", VisionTransformerSpec(patch: 8, dim: 16, depth: 2, heads: 2, mlpRatio: 2)),
    ])
    func reproducesPyTorch(_ name: String, _ architecture: any ArchitectureSpec) throws {
        let path = "\(Self.directory)/\(name).h5"
        let file = try HDF5File.open(path)
        defer { file.close() }
        let (inputShape, inputValues) = try file.readFloats("/input")
        let x = Tensor(shape: inputShape, scalars: inputValues)
        let labels = try file.readIntegers("/labels").values.map(Int.init)
        let (logitShape, logitValues) = try file.readFloats("/logits")
        let (_, gradientValues) = try file.readFloats("/input_gradient")

        var rng = RandomSource(seed: 0)
        let nodes = try architecture.nodes(inputShape: Array(inputShape.dropFirst()), outputs: logitShape[1])
        let model = try Sequential(nodes: nodes, inputShape: Array(inputShape.dropFirst()), rng: &rng)
        let state = try StateDictFile.read(path)
        #expect(Set(state.keys) == Set(model.stateDict().map(\.key)), "the state-dict keys are PyTorch's")
        try model.loadStateDict(state)

        let logits = model.logits(x)
        #expect(logits.shape == logitShape)
        let logitError = zip(logits.scalars, logitValues).map { abs($0 - $1) }.max()!
        #expect(logitError < 1e-4, "\(name): logits differ by \(logitError)")
        let gradient = model.inputGradient(images: x, labels: labels).gradient
        let scale = gradientValues.map(abs).max()!
        let gradientError = zip(gradient.scalars, gradientValues).map { abs($0 - $1) }.max()!
        #expect(gradientError < 1e-3 * scale, "\(name): input gradients differ by \(gradientError) (largest \(scale))")
    }
}
