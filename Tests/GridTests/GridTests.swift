import Foundation
import Grid
import Spec
import Testing

let gridBase = """
    schema_version: 1
    name: g
    seed: 3
    dataset: {type: synthetic}
    models:
      - {name: a, layers: [{type: flatten}, {type: linear, out_features: 10}]}
      - {name: b, layers: [{type: flatten}, {type: linear, out_features: 10, bias: false}]}
    training: {optimizer: {type: adam}, epochs: 1, batch_size: 8}
    attacks: [{type: fgsm, epsilon: 0.1}]
    """

func trials(_ text: String, overrides: [String] = []) throws(SpecErrors) -> [Trial] {
    try GridExpansion.trials(for: SpecDocument.parse(text, file: "g.yaml", overrides: overrides))
}

func problems(_ text: String, overrides: [String] = []) -> [String] {
    do {
        _ = try trials(text, overrides: overrides)
        return []
    } catch {
        return error.issues.map(\.description)
    }
}

@Suite struct TrialIdentityTests {
    @Test func oneTrialPerModelWithStableIds() throws {
        let first = try trials(gridBase)
        #expect(first.map(\.modelName) == ["a", "b"] && first.map(\.seed) == [3, 3])
        #expect(first.allSatisfy { $0.id.count == 16 && $0.id.allSatisfy(\.isHexDigit) })
        #expect(first[0].id != first[1].id)
        // Reformatting (key order, comments, flow vs block style) keeps the ids.
        let reformatted = gridBase.replacingOccurrences(
            of: "training: {optimizer: {type: adam}, epochs: 1, batch_size: 8}",
            with: "# trained briefly\ntraining:\n  batch_size: 8\n  epochs: 1\n  optimizer: {type: adam}")
        #expect(try trials(reformatted).map(\.id) == first.map(\.id))
        // So do the name and the description.
        #expect(try trials(gridBase.replacingOccurrences(of: "name: g", with: "name: renamed\ndescription: x")).map(\.id) == first.map(\.id))
    }

    @Test func idsChangeWithWhatDeterminesResults() throws {
        let first = try trials(gridBase).map(\.id)
        #expect(try trials(gridBase.replacingOccurrences(of: "seed: 3", with: "seed: 4")).map(\.id) != first)
        let changedTraining = try trials(gridBase.replacingOccurrences(of: "epochs: 1", with: "epochs: 2")).map(\.id)
        #expect(changedTraining[0] != first[0] && changedTraining[1] != first[1])
        // Changing model b leaves model a's id alone; so does adding a model.
        let changedModel = try trials(gridBase.replacingOccurrences(of: "bias: false", with: "bias: true")).map(\.id)
        #expect(changedModel[0] == first[0] && changedModel[1] != first[1])
        let added = try trials(
            gridBase.replacingOccurrences(of: "training:", with: "  - {name: c, layers: [{type: flatten}, {type: linear, out_features: 10}]}\ntraining:"))
        #expect(added.count == 3 && Array(added.map(\.id).prefix(2)) == first)
    }

    @Test func sha256MatchesFIPSVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func repeatsDeriveSeeds() throws {
        let repeated = try trials(gridBase.replacingOccurrences(of: "seed: 3", with: "seed: 3\nrepeats: 3"))
        #expect(repeated.count == 6)
        #expect(repeated.filter { $0.modelName == "a" }.map(\.repeatIndex) == [0, 1, 2])
        let seeds = repeated.filter { $0.modelName == "a" }.map(\.seed)
        #expect(seeds[0] == 3 && Set(seeds).count == 3)
        #expect(seeds[1] == TrialSeed.seed(base: 3, repeatIndex: 1))
        #expect(Set(repeated.map(\.id)).count == 6)
        #expect(repeated[1].parameters.map(\.axis) == ["model", "repeat"])
    }
}

@Suite struct SweepTests {
    func values(_ trials: [Trial], _ axis: String) -> [String] {
        trials.filter { $0.modelName == "a" }.map { trial in trial.parameters.first { $0.axis == axis }?.value ?? "-" }
    }

    @Test func sweepFormsGenerateTheirValues() throws {
        let listed = try trials(gridBase.replacingOccurrences(of: "epsilon: 0.1", with: "epsilon: {sweep: [0.01, 0.02]}"))
        #expect(values(listed, "attacks[0].epsilon") == ["0.01", "0.02"] && listed.count == 4)
        let linspace = try trials(gridBase.replacingOccurrences(of: "epsilon: 0.1", with: "epsilon: {linspace: [0, 0.1, 5]}"))
        #expect(values(linspace, "attacks[0].epsilon") == ["0", "0.025", "0.05", "0.075", "0.1"])
        let logspace = try trials(gridBase.replacingOccurrences(of: "epsilon: 0.1", with: "epsilon: {logspace: [-3, -1, 3]}"))
        #expect(values(logspace, "attacks[0].epsilon") == ["0.001", "0.01", "0.1"])
        let range = try trials(gridBase.replacingOccurrences(of: "epochs: 1", with: "epochs: {range: [1, 7, 2]}"))
        #expect(values(range, "training.epochs") == ["1", "3", "5"])
        #expect(range.filter { $0.modelName == "a" }.map(\.spec.training.epochs) == [1, 3, 5])
    }

    @Test func axesCombineAsAProductInDocumentOrder() throws {
        let text =
            gridBase
            .replacingOccurrences(of: "epsilon: 0.1", with: "epsilon: {sweep: [0.1, 0.2, 0.3]}")
            .replacingOccurrences(of: "epochs: 1", with: "epochs: {sweep: [1, 2]}")
        let grid = try trials(text)
        #expect(grid.count == 12)
        #expect(values(grid, "training.epochs") == ["1", "1", "1", "2", "2", "2"])
        #expect(values(grid, "attacks[0].epsilon") == ["0.1", "0.2", "0.3", "0.1", "0.2", "0.3"])
        #expect(grid.map(\.index) == Array(0..<12))
    }

    @Test func zipPairsAxesAndUnionConcatenatesGrids() throws {
        let zipped =
            gridBase
            .replacingOccurrences(of: "epsilon: 0.1", with: "epsilon: {sweep: [0.1, 0.2, 0.3]}")
            .replacingOccurrences(of: "epochs: 1", with: "epochs: {sweep: [1, 2, 3]}")
            + "\ngrid:\n  zip: [[training.epochs, 'attacks[0].epsilon']]\n"
        let grid = try trials(zipped)
        #expect(values(grid, "training.epochs") == ["1", "2", "3"] && values(grid, "attacks[0].epsilon") == ["0.1", "0.2", "0.3"])

        let union =
            gridBase + """

                grid:
                  union:
                    - {training.epochs: 1}
                    - {training.epochs: {sweep: [2, 3]}, 'attacks[0].epsilon': 0.3}
                """
        let unioned = try trials(union)
        #expect(unioned.filter { $0.modelName == "a" }.map(\.spec.training.epochs) == [1, 2, 3])
        #expect(unioned.filter { $0.modelName == "a" }.map { $0.spec.attacks[0].canonicalParameters.contains("0.3") } == [false, true, true])
        #expect(values(unioned, "union") == ["0", "1", "1"])
    }

    @Test func commandLineOverridesSetValuesAndAddAxes() throws {
        let grid = try trials(gridBase, overrides: ["seed=0,1", "attacks[0].epsilon=linspace(0,0.1,3)", "training.batch_size=16"])
        #expect(grid.count == 12 && grid.allSatisfy { $0.spec.training.batchSize == 16 })
        #expect(values(grid, "seed") == ["0", "0", "0", "1", "1", "1"])
        #expect(Set(grid.map(\.seed)) == [0, 1])
        #expect(try trials(gridBase, overrides: ["models[1].layers[1].out_features=10"]).count == 2)
    }

    @Test func sweepProblemsAreReportedWhereWritten() {
        #expect(
            problems(gridBase.replacingOccurrences(of: "epochs: 1", with: "epochs: {sweep: [1, -1]}"))
                == ["g.yaml:8:57: training.epochs: epochs must be ≥ 0, got -1"])
        #expect(
            problems(gridBase.replacingOccurrences(of: "epochs: 1", with: "epochs: {range: [3, 1]}"))
                == ["g.yaml:8:46: training.epochs: range(3, 1) is empty"])
        #expect(
            problems(gridBase.replacingOccurrences(of: "epochs: 1", with: "epochs: {linspace: [0, 1]}"))
                == ["g.yaml:8:46: training.epochs: linspace expects [start, stop, count], got 2 argument(s)"])
        #expect(
            problems(gridBase.replacingOccurrences(of: "epochs: 1", with: "epochs: {sweep: [{sweep: [1]}]}"))
                == ["g.yaml:8:46: training.epochs: a sweep cannot contain another sweep"])
        let unequal =
            gridBase
            .replacingOccurrences(of: "epsilon: 0.1", with: "epsilon: {sweep: [0.1, 0.2]}")
            .replacingOccurrences(of: "epochs: 1", with: "epochs: {sweep: [1, 2, 3]}")
            + "\ngrid: {zip: [[training.epochs, 'attacks[0].epsilon']]}\n"
        #expect(problems(unequal) == ["g.yaml:8:46: grid.zip: zipped sweeps need equal lengths: training.epochs has 3, attacks[0].epsilon has 2"])
        #expect(
            problems(gridBase + "\ngrid: {zipp: []}\n") == ["g.yaml:10:8: grid.zipp: unknown key 'zipp' (did you mean 'zip'?); expected one of: union, zip"])
        #expect(problems(gridBase + "\ngrid: {union: [{seed: 1}, {seed: 1}]}\n").first?.contains("are identical") == true)
        #expect(
            problems(gridBase, overrides: ["attacks[3].epsilon=1"]) == [
                "command-line override 1 'attacks[3].epsilon=1': attacks[3]: the list has 1 element(s); there is no [3]"
            ])
        #expect(problems(gridBase, overrides: ["seed"]) == ["command-line override 1 'seed': expected key.path=value"])
        #expect(problems(gridBase, overrides: ["training..epochs=1"]).first?.contains("is not a key path") == true)
        #expect(
            problems(gridBase, overrides: ["sed=1"]) == [
                "command-line override 1 'sed=1': sed: unknown key 'sed' (did you mean 'seed'?); expected one of: attacks, calibration, dataset, description, evaluation, interpret, metrics, models, name, noise, repeats, report, schema_version, seed, store, training, uncertainty"
            ])
    }
}
