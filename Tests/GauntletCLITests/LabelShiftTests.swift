import ArgumentParser
import Foundation
import GauntletCLI
import Storage
import Testing

/// A class-prior shift evaluated end to end: its accuracy is exactly the clean correctness
/// averaged over the stored resampled indices (the images are unchanged, inference is
/// deterministic), and its labels follow the shifted prior.
@Suite struct LabelShiftTests {
    @Test func theShiftedEvaluationIsTheCleanOneResampled() throws {
        let workspace = try Workspace()
        let spec = try workspace.write(
            "shift.yaml",
            syntheticExperiment.replacingOccurrences(
                of: "noise: [{type: gaussian_noise, std: 0.2}]", with: "noise: [{type: class_prior, imbalance: 20}]"))
        var run = try Gauntlet.parseAsRoot(["run", spec, "--output", workspace.directory, "--in-process", "--quiet"])
        try run.run()
        let folder = "\(workspace.directory)/synthetic_smoke/cells"
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".h5") {
            let file = try HDF5File.open("\(folder)/\(name)")
            defer { file.close() }
            let evaluations = try file.readStrings("/metrics/evaluation")
            let shifted = try #require(evaluations.firstIndex(of: "class_prior(imbalance=20)"))
            #expect(try file.readStrings("/label_shift/evaluation") == ["class_prior(imbalance=20)"])
            let labels = try file.readIntegers("/test_labels").values
            let predictions = try file.readIntegers("/predictions")
            let n = labels.count
            let indices = try file.readIntegers("/label_shift/indices").values.map(Int.init)
            #expect(indices.count == n)
            // The shifted evaluation's prediction for sample i is the clean prediction of test sample indices[i].
            let clean = Array(predictions.values[0..<n]), shiftedRow = Array(predictions.values[(shifted * n)..<((shifted + 1) * n)])
            #expect(shiftedRow == indices.map { clean[$0] })
            let expected = Double(indices.filter { clean[$0] == labels[$0] }.count) / Double(n)
            let accuracy = try file.readDoubles("/metrics/accuracy").values[shifted]
            #expect(abs(accuracy - expected) < 1e-12)
            // Class 0 is twenty times as frequent as class 3 in expectation; with 120 samples, at least 4 times.
            let drawn = indices.map { labels[$0] }
            #expect(drawn.filter { $0 == 0 }.count > 4 * drawn.filter { $0 == 3 }.count)
        }
    }
}
