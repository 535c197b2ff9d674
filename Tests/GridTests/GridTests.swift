import Foundation
import Grid
import Spec
import Testing

@Suite struct GridTests {
    static let base = """
        schema_version: 1
        name: g
        seed: 3
        dataset: {type: synthetic}
        models:
          - {name: a, layers: [{type: flatten}, {type: linear, out_features: 10}]}
          - {name: b, layers: [{type: flatten}, {type: linear, out_features: 10, bias: false}]}
        training: {optimizer: {type: adam}, epochs: 1, batch_size: 8}
        """

    func trials(_ text: String) throws -> [Trial] {
        GridExpansion.trials(for: try SpecDocument.parse(text, file: "g.yaml").decode(ExperimentSpec.self))
    }

    @Test func oneTrialPerModelWithStableIds() throws {
        let first = try trials(Self.base)
        #expect(first.map(\.modelName) == ["a", "b"] && first.map(\.seed) == [3, 3])
        #expect(first.allSatisfy { $0.id.count == 16 && $0.id.allSatisfy(\.isHexDigit) })
        #expect(first[0].id != first[1].id)
        // Reformatting (key order, comments, flow vs block style) keeps the ids.
        let reformatted = Self.base.replacingOccurrences(of: "training: {optimizer: {type: adam}, epochs: 1, batch_size: 8}",
                                                         with: "# trained briefly\ntraining:\n  batch_size: 8\n  epochs: 1\n  optimizer: {type: adam}")
        #expect(try trials(reformatted).map(\.id) == first.map(\.id))
    }

    @Test func idsChangeWithWhatDeterminesResults() throws {
        let first = try trials(Self.base).map(\.id)
        #expect(try trials(Self.base.replacingOccurrences(of: "seed: 3", with: "seed: 4")).map(\.id) != first)
        let changedTraining = try trials(Self.base.replacingOccurrences(of: "epochs: 1", with: "epochs: 2")).map(\.id)
        #expect(changedTraining[0] != first[0] && changedTraining[1] != first[1])
        let changedModel = try trials(Self.base.replacingOccurrences(of: "bias: false", with: "bias: true")).map(\.id)
        #expect(changedModel[0] == first[0] && changedModel[1] != first[1])
    }

    @Test func fnvMatchesPublishedVectors() {
        // FNV-1a 64 test vectors (Fowler–Noll–Vo reference values).
        #expect(TrialID.hash("") == "cbf29ce484222325")
        #expect(TrialID.hash("a") == "af63dc4c8601ec8c")
        #expect(TrialID.hash("foobar") == "85944171f73967e8")
    }
}
