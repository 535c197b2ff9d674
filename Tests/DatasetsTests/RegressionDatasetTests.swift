import Datasets
import Foundation
import Tensors
import Testing

@Suite final class RegressionDatasetTests {
    /// One folder per test, removed with the suite instance when the test ends.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-regression-\(UUID().uuidString)")

    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ text: String, name: String = UUID().uuidString) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("\(name).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func csvSplitsStandardisesWithTrainingStatisticsAndKeepsTargetUnits() throws {
        // 20 rows: y = 2a − b + 1, b constant; quoted header and fields, CRLF endings, a blank line.
        var lines = ["\"a\",b,\"y, units\""]
        for i in 0..<20 { lines.append("\(i),\"7\",\(2 * i - 7 + 1)") }
        let path = try write(lines.joined(separator: "\r\n") + "\r\n\r\n")
        let source = CSVSource(path: path, targets: ["y, units"], validationFraction: 0.2, testFraction: 0.25, splitSeed: 3)
        #expect(source.problems().isEmpty)
        #expect(source.sampleShape == [2] && source.targetCount == 1 && source.classCount == 0)
        #expect(source.sampleCounts == (11, 4, 5))
        let splits = try source.load()
        #expect(splits.training.count == 11 && splits.validation.count == 4 && splits.test.count == 5)
        // Features standardised with the training rows: mean 0 and population std 1 there; the
        // constant column maps to 0 everywhere.
        let a = (0..<11).map { Double(splits.training.images.scalars[$0 * 2]) }
        let mean = a.reduce(0, +) / 11, variance = a.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 11
        #expect(abs(mean) < 1e-6 && abs(variance - 1) < 1e-5)
        #expect((0..<11).allSatisfy { splits.training.images.scalars[$0 * 2 + 1] == 0 })
        // Targets keep their units: every row still satisfies y = 2a − 6 for its original a.
        var all: [(a: Float, y: Float)] = []
        for split in [splits.training, splits.validation, splits.test] {
            for r in 0..<split.count { all.append((split.images.scalars[r * 2], split.targets!.scalars[r])) }
        }
        #expect(Set(all.map(\.y)) == Set((0..<20).map { Float(2 * $0 - 6) }))
        // The split is a seeded permutation: the same seed gives the same rows.
        #expect(try source.load().test.targets!.scalars == splits.test.targets!.scalars)
        #expect(try CSVSource(path: path, targets: ["y, units"], splitSeed: 4).load().test.targets!.scalars != splits.test.targets!.scalars)
    }

    @Test func badCellsNameTheFileLineAndColumn() throws {
        let missing = try write("x,y\n1,2\n2,\n3,4\n")
        #expect(throws: DatasetError.malformedTable(missing, line: 3, "missing value in column 'y'")) {
            try CSVSource(path: missing, targets: ["y"], validationFraction: 0.3, testFraction: 0.3).load()
        }
        let text = try write("x,y\n1,2\n2,abc\n")
        #expect(throws: DatasetError.malformedTable(text, line: 3, "column 'y': 'abc' is not a finite number")) {
            try CSVSource(path: text, targets: ["y"]).load()
        }
        let ragged = try write("x,y\n1,2,3\n")
        #expect(throws: DatasetError.malformedTable(ragged, line: 2, "3 fields, but the header names 2 columns")) {
            try CSVSource(path: ragged, targets: ["y"]).load()
        }
        let open = try write("x,y\n\"1,2\n")
        #expect(throws: DatasetError.malformedTable(open, line: 2, "a quoted field is not closed")) {
            try CSVSource(path: open, targets: ["y"]).load()
        }
        #expect(throws: DatasetError.missingTable("/nonexistent/t.csv")) { try CSVSource(path: "/nonexistent/t.csv", targets: ["y"]).load() }
        let problems = CSVSource(path: "/nonexistent/t.csv", targets: ["y"]).problems()
        #expect(problems == ["path cannot be used: /nonexistent/t.csv: no such file"])
    }

    @Test func relativePathsAreRelativeToTheExperimentFile() {
        let source = CSVSource(path: "data/t.csv", targets: ["y"]).resolvingPaths(relativeTo: "/work/experiments")
        #expect(source.path == "/work/experiments/data/t.csv")
        #expect(CSVSource(path: "/abs/t.csv", targets: ["y"]).resolvingPaths(relativeTo: "/x").path == "/abs/t.csv")
    }

    @Test func syntheticRegressionIsSeededAndHasItsStatedNoise() throws {
        let homoscedastic = SyntheticRegression(train: 4000, validation: 10, test: 10, noise: 0.5, heteroscedastic: false, seed: 2)
        let splits = try homoscedastic.load()
        #expect(try homoscedastic.load().training.targets!.scalars == splits.training.targets!.scalars)
        let x = splits.training.images.scalars, y = splits.training.targets!.scalars
        #expect(x.allSatisfy { abs($0) <= .pi })
        let residuals = zip(x, y).map { Double($1 - sin($0)) }
        let std = (residuals.reduce(0) { $0 + $1 * $1 } / Double(residuals.count)).squareRoot()
        #expect(abs(std - 0.5) < 0.02, "residual std \(std)")
        // Heteroscedastic: the noise at |x| near π is about five times that near 0.
        let noisy = try SyntheticRegression(train: 8000, validation: 10, test: 10, seed: 3).load().training
        func residualStd(_ keep: (Float) -> Bool) -> Double {
            let r = zip(noisy.images.scalars, noisy.targets!.scalars).filter { keep($0.0) }.map { Double($1 - sin($0)) }
            return (r.reduce(0) { $0 + $1 * $1 } / Double(r.count)).squareRoot()
        }
        let inner = residualStd { abs($0) < 0.3 }, outer = residualStd { abs($0) > 2.8 }
        #expect(outer > 3.5 * inner, "inner \(inner), outer \(outer)")
        // Friedman #1 at a known point: 10 sin(π/4) + 20·0 + 10·0.5 + 5·0.5 (Friedman 1991, eq. 52).
        let friedman = SyntheticRegression(function: .friedman1, heteroscedastic: false)
        #expect(abs(friedman.truth([0.5, 0.5, 0.5, 0.5, 0.5, 0.9]).mean - Float(10 * sin(Double.pi / 4) + 7.5)) < 1e-5)
        #expect(friedman.sampleShape == [10] && SyntheticRegression().sampleShape == [1])
    }
}
