import Foundation
import Spec
import Testing

/// A temporary folder of experiment files, removed when the test is done with it.
final class Files {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-spec-\(UUID().uuidString)").path

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = "\(directory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

func loadProblems(_ path: String, overrides: [String] = []) -> [String] {
    do {
        _ = try SpecDocument.load(path, overrides: overrides).decode(ExperimentSpec.self)
        return []
    } catch {
        return error.issues.map(\.description)
    }
}

@Suite struct IncludeTests {
    static let base = """
        schema_version: 1
        name: base
        seed: 1
        dataset: {type: synthetic}
        models:
          - {name: m, layers: [{type: flatten}, {type: linear, out_features: 10}]}
        training:
          optimizer: {type: adam, lr: 0.001}
          epochs: 1
          batch_size: 8
        """

    @Test func aVariantIsAFewLinesOverABase() throws {
        let files = try Files()
        try files.write("base.yaml", Self.base)
        let variant = try files.write("variant.yaml", "include: base.yaml\nname: variant\ntraining:\n  epochs: 3\n  optimizer: {lr: 0.01}\n")
        let document = try SpecDocument.load(variant)
        let spec = try document.decode(ExperimentSpec.self)
        #expect(spec.name == "variant" && spec.training.epochs == 3 && spec.training.batchSize == 8)
        #expect(spec.training.optimizer.canonicalParameters == #"{"lr":0.01,"type":"adam"}"#)  // mappings merge key by key
        #expect(document.sources.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["variant.yaml", "base.yaml"])
        #expect(spec.dataset.location?.file == "\(files.directory)/base.yaml")
    }

    @Test func laterIncludesOverrideEarlierOnesAndListsAreReplaced() throws {
        let files = try Files()
        try files.write("base.yaml", Self.base)
        try files.write("long.yaml", "training: {epochs: 5}\nmodels: [{name: other, layers: [{type: flatten}, {type: linear, out_features: 10}]}]\n")
        let variant = try files.write("v.yaml", "include: [base.yaml, long.yaml]\n")
        let spec = try SpecDocument.load(variant).decode(ExperimentSpec.self)
        #expect(spec.training.epochs == 5 && spec.models.map(\.name) == ["other"])
    }

    @Test func errorsInsideAnIncludedFilePointIntoIt() throws {
        let files = try Files()
        try files.write("base.yaml", Self.base.replacingOccurrences(of: "seed: 1", with: "sead: 1"))
        let variant = try files.write("v.yaml", "include: base.yaml\n")
        #expect(loadProblems(variant).first?.hasPrefix("\(files.directory)/base.yaml:3:1: sead: unknown key 'sead' (did you mean 'seed'?)") == true)
    }

    @Test func missingFilesAndCyclesAreReportedAtTheInclude() throws {
        let files = try Files()
        let missing = try files.write("m.yaml", "name: x\ninclude: nowhere.yaml\n")
        #expect(loadProblems(missing) == ["\(files.directory)/m.yaml:2:10: include: \(files.directory)/nowhere.yaml: no such file"])
        try files.write("a.yaml", "include: b.yaml\n")
        try files.write("b.yaml", "include: [c.yaml]\n")
        let c = try files.write("c.yaml", "include: a.yaml\nname: c\n")
        #expect(loadProblems(c) == ["\(files.directory)/b.yaml:1:11: include[0]: include cycle: c.yaml → a.yaml → b.yaml → c.yaml"])
        let selfInclude = try files.write("s.yaml", "include: s.yaml\n")
        #expect(loadProblems(selfInclude).first?.hasSuffix("include cycle: s.yaml → s.yaml") == true)
        let notAPath = try files.write("n.yaml", "include: {a: 1}\n")
        #expect(loadProblems(notAPath) == ["\(files.directory)/n.yaml:1:10: include: expected a file path or a list of file paths, found a mapping"])
    }
}

@Suite struct HostileInputTests {
    func expectFastFailure(_ text: String, containing fragment: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let start = Date()
        do {
            _ = try SpecDocument.parse(text, file: "hostile.yaml")
            Issue.record("accepted hostile input (\(fragment))", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description.contains(fragment), "\(error.description.prefix(300))", sourceLocation: sourceLocation)
        }
        #expect(Date().timeIntervalSince(start) < 5, sourceLocation: sourceLocation)
    }

    @Test func deepFlowNestingIsRejectedBeforeParsing() {
        expectFastFailure(
            "a: " + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000),
            containing: "nested 200000 levels deep; the limit is 64")
        // Brackets hidden behind comments still count.
        expectFastFailure(
            "a: " + String(repeating: "[ # ]\n", count: 5000) + String(repeating: "]", count: 5000),
            containing: "levels deep; the limit is 64")
    }

    @Test func deepBlockNestingIsRejected() {
        var text = ""
        for depth in 0..<100 { text += String(repeating: "  ", count: depth) + "k:\n" }
        expectFastFailure(text + String(repeating: "  ", count: 100) + "v\n", containing: "nested more than 64 levels deep")
    }

    @Test func aliasBombsAreStoppedByTheNodeBudget() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1..<9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        expectFastFailure(text, containing: "more than 200000 values (are aliases expanding exponentially?)")
    }

    @Test func hugeScalarsAndFilesAreRejected() throws {
        expectFastFailure("name: " + String(repeating: "x", count: 100_000), containing: "a value of 100000 bytes; the limit is 65536")
        let files = try Files()
        let big = try files.write("big.yaml", "# " + String(repeating: "y", count: 5 << 20))
        #expect(loadProblems(big) == ["\(big): larger than 4 MiB; experiment files are small"])
    }

    @Test func binaryGarbageGivesAClearError() throws {
        let files = try Files()
        let path = "\(files.directory)/garbage.yaml"
        try Data([0xff, 0xfe, 0x00, 0x41, 0x80, 0x81]).write(to: URL(fileURLWithPath: path))
        #expect(loadProblems(path) == ["\(path): not UTF-8 text"])
    }
}
