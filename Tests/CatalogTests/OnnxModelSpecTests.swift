import Catalog
import Foundation
import Layers
import Spec
import Testing

/// `models[].onnx` in experiment files: resolved against the dataset before anything runs, with
/// problems at the key.
@Suite struct OnnxModelSpecTests {
    static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../OnnxTests/Fixtures/separable-opset17/model.onnx").standardizedFileURL.path

    static func text(onnx: String = model, side: Int = 28, extra: String = "") -> String {
        """
        schema_version: 1
        name: r
        dataset: {type: synthetic, side: \(side)}
        models:
          - name: imported
            onnx: \(onnx)
        training: {optimizer: {type: adam}, epochs: 1, batch_size: 8}
        attacks: [{type: fgsm, epsilon: 0.1}]
        \(extra)
        """
    }

    func problems(_ text: String) -> [String] {
        do {
            _ = try ResolvedGrid.resolve(try SpecDocument.parse(text, file: "r.yaml"))
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    @Test func anOnnxModelResolves() throws {
        let grid = try ResolvedGrid.resolve(try SpecDocument.parse(Self.text(), file: "r.yaml"))
        let model = grid.trials[0].experiment.models[0]
        #expect(model.nodes.contains { $0.name == "classifier.2.weight" })
        let source = try #require(model.source)
        #expect(source.contains("onnx \(Self.model)") && source.contains("sha256 ") && source.contains("opset 17"))
    }

    @Test func problemsNameTheOnnxKey() {
        let mismatch = problems(Self.text(side: 8))
        #expect(mismatch.count == 1 && mismatch[0].contains("models[0].onnx") && mismatch[0].contains("samples of 1×8×8"), "\(mismatch)")
        let missing = problems(Self.text(onnx: "nowhere.onnx"))
        #expect(missing.count == 1 && missing[0].contains("models[0].onnx: onnx 'nowhere.onnx': no such file"), "\(missing)")
        let both = problems(Self.text().replacingOccurrences(of: "    onnx:", with: "    architecture: {type: resnet, depth: 20}\n    onnx:"))
        #expect(both.contains { $0.contains("only one of them") }, "\(both)")
    }

    /// An export in eval mode has no Dropout nodes: MC dropout says why and how to export.
    @Test func monteCarloDropoutNeedsDropoutNodes() {
        let found = problems(Self.text(extra: "uncertainty: {methods: [{type: mc_dropout, passes: 5}]}"))
        #expect(found.count == 1 && found[0].contains("ONNX file without Dropout nodes") && found[0].contains("TrainingMode.PRESERVE"), "\(found)")
    }
}
