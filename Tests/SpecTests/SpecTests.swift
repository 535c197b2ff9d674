import Foundation
import Spec
import Testing

@Suite struct SpecDecodingTests {
    static let valid = """
        schema_version: 1
        name: demo
        seed: 7
        dataset: {type: synthetic, train: 10}
        models:
          - name: tiny
            layers:
              - {type: flatten}
              - {type: linear, out_features: 10}
        training:
          optimizer: {type: adam}
          epochs: 2
          batch_size: 4
        attacks:
          - {type: fgsm, epsilon: 0.1}
        """

    func issues(_ text: String) -> [SpecIssue] {
        do {
            _ = try SpecDocument.parse(text, file: "x.yaml").decode(ExperimentSpec.self)
            return []
        } catch {
            return error.issues
        }
    }

    @Test func decodesAValidFileWithDefaults() throws {
        let spec = try SpecDocument.parse(Self.valid, file: "x.yaml").decode(ExperimentSpec.self)
        #expect(spec.name == "demo" && spec.seed == 7 && spec.training.epochs == 2 && spec.training.shuffle)
        #expect(spec.models[0].layers.map(\.type) == ["flatten", "linear"])
        #expect(spec.attacks[0].type == "fgsm" && spec.attacks[0].keyPath == "attacks[0]")
        #expect(spec.attacks[0].location == SourceLocation(file: "x.yaml", line: 15, column: 5))
        #expect(spec.noise.isEmpty && spec.evaluation.batchSize == 500)
    }

    @Test func unknownKeysAreErrorsWithLineColumnAndSuggestion() {
        let text = Self.valid.replacingOccurrences(of: "  epochs: 2", with: "  epochz: 2")
            .replacingOccurrences(of: "seed: 7", with: "seed: 7\nsede: 1")
        let found = issues(text)
        let unknown = found.first { $0.keyPath == "sede" }
        #expect(
            unknown?.description
                == "x.yaml:4:1: sede: unknown key 'sede' (did you mean 'seed'?); expected one of: attacks, calibration, dataset, description, evaluation, interpret, metrics, models, name, noise, repeats, report, schema_version, seed, store, training, uncertainty"
        )
        // Decoding stopped at the missing `epochs`; every key of `training` is declared, so its
        // misspelling is still reported, with the other problems of the file.
        #expect(found.contains { $0.keyPath == "training" && $0.message == "missing required key 'epochs'" })
        #expect(found.contains { $0.keyPath == "training.epochz" && $0.message.hasPrefix("unknown key 'epochz' (did you mean 'epochs'?)") })
        #expect(found.count == 3)
    }

    @Test func typeErrorsPointAtTheValue() {
        let found = issues(Self.valid.replacingOccurrences(of: "batch_size: 4", with: "batch_size: four"))
        #expect(found.map(\.description) == ["x.yaml:13:15: training.batch_size: expected an integer, found 'four'"])
        let list = issues(Self.valid.replacingOccurrences(of: "epochs: 2", with: "epochs: [2]"))
        #expect(list.first?.description == "x.yaml:12:11: training.epochs: expected an integer, found a list")
    }

    @Test func rangeAndNameChecks() {
        #expect(issues(Self.valid.replacingOccurrences(of: "epochs: 2", with: "epochs: -1")).first?.message == "epochs must be ≥ 0, got -1")
        #expect(issues(Self.valid.replacingOccurrences(of: "name: demo", with: "name: ../up")).first?.keyPath == "name")
        #expect(
            issues(Self.valid.replacingOccurrences(of: "schema_version: 1", with: "schema_version: 2")).first?.message.contains("unsupported schema_version 2")
                == true)
        let duplicate = Self.valid.replacingOccurrences(
            of: "training:",
            with: """
                  - name: tiny
                    layers: [{type: flatten}]
                training:
                """)
        #expect(issues(duplicate).first?.message == "duplicate model name 'tiny'")
    }

    @Test func yamlSyntaxErrorsHaveAPosition() {
        let found = issues("schema_version: 1\nname: [unclosed\nseed: 1\n")
        #expect(found.count == 1)
        #expect(found[0].location?.file == "x.yaml" && found[0].location?.line == 3)
        #expect(found[0].message.hasPrefix("invalid YAML"))
        #expect(issues("- just\n- a list\n").first?.message.contains("must be a YAML mapping") == true)
        #expect(issues("a: 1\na: 2\n").first?.message.contains("duplicate key 'a'") == true)
    }

    @Test func unreadableFilesNameTheFile() throws {
        #expect(throws: SpecErrors.self) { try SpecDocument.load("/nonexistent/spec.yaml") }
        do { _ = try SpecDocument.load("/nonexistent/spec.yaml") } catch {
            #expect(error.description == "/nonexistent/spec.yaml: no such file")
        }
        let directory = FileManager.default.temporaryDirectory.path
        do { _ = try SpecDocument.load(directory); Issue.record("read a directory") } catch {
            #expect(error.description == "\(directory): cannot read the file")
        }
    }

    @Test func componentsDecodeTheirParametersStrictly() throws {
        struct FGSMParameters: Decodable, Equatable { var epsilon: Float }
        let spec = try SpecDocument.parse(Self.valid, file: "x.yaml").decode(ExperimentSpec.self)
        #expect(try spec.attacks[0].decode(as: FGSMParameters.self) == FGSMParameters(epsilon: 0.1))
        let typo = try SpecDocument.parse(Self.valid.replacingOccurrences(of: "epsilon: 0.1", with: "epsilon: 0.1, epsilom: 2"), file: "x.yaml")
            .decode(ExperimentSpec.self)
        do {
            _ = try typo.attacks[0].decode(as: FGSMParameters.self)
            Issue.record("accepted an unknown parameter")
        } catch {
            #expect(
                error.issues.map(\.description) == [
                    "x.yaml:15:32: attacks[0].epsilom: unknown key 'epsilom' (did you mean 'epsilon'?); expected one of: epsilon, name, type"
                ])
        }
    }
}

@Suite struct CanonicalJSONTests {
    func canonical(_ yaml: String) throws -> String {
        CanonicalJSON.render(try SpecDocument.parse(yaml, file: "c.yaml").root)
    }

    @Test func keyOrderAndSpellingDoNotMatter() throws {
        #expect(try canonical("{b: 1.0, a: [true, ~, 'q']}") == #"{"a":[true,null,"q"],"b":1}"#)
        #expect(try canonical("{b: 1.0, a: [true, ~, 'q']}") == canonical("# comment\na: [yes, null, q]\nb: 1\n"))
        #expect(try canonical("{a: '1'}") != canonical("{a: 1}"))  // a quoted string is not a number
        #expect(CanonicalJSON.quote("a\"b\\\n") == #""a\"b\\\n""#)
    }

    @Test func suggestionsUseEditDistance() {
        #expect(Suggestion.distance("kitten", "sitting") == 3)
        #expect(Suggestion.closest(to: "pgb", among: ["pgd", "fgsm"]) == "pgd")
        #expect(Suggestion.closest(to: "completely_different", among: ["pgd", "fgsm"]) == nil)
    }
}
