@testable import Reporting
import Testing

/// The report's own numbers against hand computations.
@Suite struct ReportComputationTests {
    @Test func meanCorruptionErrorMatchesTheDefinition() {
        // Model errors: clean 0.1; type a: s1 0.2, s2 0.4; type b: s1 0.3.
        // Baseline: clean 0.2; a: 0.4, 0.6; b: 0.5.
        let model = (clean: 0.1, errors: ["a": [1: 0.2, 2: 0.4], "b": [1: 0.3]])
        let baseline = (clean: 0.2, errors: ["a": [1: 0.4, 2: 0.6], "b": [1: 0.5]])
        let (mce, relative) = ReportBuilder.meanCorruptionError(model, baseline: baseline)
        // CE_a = 0.6 / 1.0, CE_b = 0.3 / 0.5 → mCE = 0.6.
        #expect(abs(mce - 0.6) < 1e-12)
        // Relative: a = (0.6 − 0.2) / (1.0 − 0.4) = 2/3; b = (0.3 − 0.1)/(0.5 − 0.2) = 2/3.
        #expect(abs(relative - 2.0 / 3.0) < 1e-12)
        // A model against itself scores 1 on both.
        let own = ReportBuilder.meanCorruptionError(model, baseline: model)
        #expect(abs(own.0 - 1) < 1e-12 && abs(own.1 - 1) < 1e-12)
    }

    @Test func robustnessTableUsesTheBaselineOfTheSameSettings() throws {
        let report = ReportBuilder(results: ReportFixture.results(), reportCommand: "").build()
        let table = try #require(report.tables.first { $0.id == "robustness" })
        let mlp = try #require(table.rows.first { $0.keys == ["mlp"] }), cnn = try #require(table.rows.first { $0.keys == ["cnn"] })
        // The baseline scores 100% on both.
        #expect(abs(mlp.values[2].mean - 100) < 1e-9 && abs(mlp.values[3].mean - 100) < 1e-9)
        // cnn errors: clean 0.1; noise 0.15, 0.30; blur 0.20, 0.40. mlp: clean 0.2; noise 0.30, 0.50; blur 0.25, 0.35.
        let mce = ((0.15 + 0.30) / (0.30 + 0.50) + (0.20 + 0.40) / (0.25 + 0.35)) / 2
        let relative = ((0.45 - 0.2) / (0.80 - 0.4) + (0.60 - 0.2) / (0.60 - 0.4)) / 2
        #expect(abs(cnn.values[2].mean - 100 * mce) < 1e-9)
        #expect(abs(cnn.values[3].mean - 100 * relative) < 1e-9)
        #expect(abs(cnn.values[1].mean - 100 * (0.15 + 0.30 + 0.20 + 0.40) / 4) < 1e-9)
    }

    @Test func strongestAttackCountsEachSampleOnce() throws {
        let report = ReportBuilder(results: ReportFixture.results(), reportCommand: "").build()
        let table = try #require(report.tables.first { $0.id == "strongest_attack" })
        // Budget 0.05: fgsm fools {0, 3}, pgd {1, 3}; any: {0, 1, 3}; only fgsm: {0}; only pgd: {1}.
        let rows = table.rows.filter { $0.keys[0] == "mlp" && $0.keys[1] == "0.050" }
        #expect(rows.map { $0.keys[2] } == ["fgsm(epsilon=0.05)", "pgd(epsilon=0.05)", "any of them (per-sample worst case)"])
        #expect(rows.map(\.values[1].mean) == [0.5, 0.5, 0.75])
        #expect(rows[0].values[2].mean == 0.25 && rows[1].values[2].mean == 0.25)
        #expect(rows[2].values[0].mean == 0.25)
    }

    @Test func boldMarksTheBestOfEachGroupByDirection() {
        var table = ReportTable(
            id: "t", caption: "t", keyHeaders: ["model"], metricHeaders: ["acc", "loss", "coverage", "other"],
            directions: [
                ColumnDirection(higherIsBetter: true), ColumnDirection(higherIsBetter: false),
                ColumnDirection(higherIsBetter: true, ideal: 0.9), nil,
            ])
        table.rows = [
            ReportTable.Row(keys: ["a"], group: "g", values: [.init(0.8), .init(0.5), .init(0.95), .init(1)]),
            ReportTable.Row(keys: ["b"], group: "g", values: [.init(0.9), .init(0.7), .init(0.88), .init(2)]),
            ReportTable.Row(keys: ["c"], group: "alone", values: [.init(0.1), .init(9), .init(0.1), .init(3)]),
            ReportTable.Row(keys: ["d"], group: "tied", values: [.init(0.5), .init(1), .init(0.9), .init(3)]),
            ReportTable.Row(keys: ["e"], group: "tied", values: [.init(0.5), .init(2), .init(0.9), .init(3)]),
        ]
        // All equal: no best; otherwise the better one.
        #expect(!table.isBest(row: 3, column: 0) && !table.isBest(row: 4, column: 0))
        #expect(table.isBest(row: 3, column: 1) && !table.isBest(row: 4, column: 1))
        #expect(!table.isBest(row: 0, column: 0) && table.isBest(row: 1, column: 0))
        #expect(table.isBest(row: 0, column: 1) && !table.isBest(row: 1, column: 1))
        #expect(!table.isBest(row: 0, column: 2) && table.isBest(row: 1, column: 2))
        #expect(!table.isBest(row: 0, column: 3) && !table.isBest(row: 1, column: 3))
        #expect(!table.isBest(row: 2, column: 0))
    }

    @Test func meanAndStandardDeviationOverRepeats() throws {
        let report = ReportBuilder(results: ReportFixture.results(), reportCommand: "").build()
        let clean = try #require(report.tables.first { $0.id == "clean" })
        let cnn = try #require(clean.rows.first { $0.keys[0] == "cnn" })
        #expect(abs(cnn.values[0].mean - 0.9) < 1e-12)
        #expect(abs(cnn.values[0].standardDeviation - 0.02.squareRoot() * 0.1) < 1e-12)
    }

    @Test func aNumericSweepAxisGetsAComparisonFigurePerChosenMetric() throws {
        var results = ReportFixture.results()
        for index in results.cells.indices {
            // Two learning rates: repeat 0 of each model at 0.01, repeat 1 at 0.1.
            results.cells[index].parameters.append(("training.optimizer.lr", results.cells[index].repeatIndex == 0 ? "0.01" : "0.1"))
        }
        results.comparedMetrics = ["accuracy", "cross_entropy"]
        let report = ReportBuilder(results: results, reportCommand: "").build()
        let ids = report.figures.map(\.id)
        #expect(ids.contains("compare_accuracy_training_optimizer_lr") && ids.contains("compare_cross_entropy_training_optimizer_lr"))
        let figure = try #require(report.figures.first { $0.id == "compare_accuracy_training_optimizer_lr" })
        // One line per model, the learning rate on the x axis.
        #expect(figure.svg.contains(">mlp</text>") && figure.svg.contains(">cnn</text>") && figure.svg.contains(">training.optimizer.lr</text>"))
        // Settings now differ by learning rate: the table has a row per model and rate.
        let clean = try #require(report.tables.first { $0.id == "clean" })
        #expect(clean.keyHeaders == ["model", "lr", "evaluation"] && clean.rows.count == 4)
    }

    @Test func severalExperimentsBecomeOneSetWithAnExperimentAxis() {
        var other = ReportFixture.results()
        other.experiment = "other"
        let combined = ResultSet.combining([ReportFixture.results(), other])
        #expect(combined.cells.count == 8 && combined.trials.count == 8)
        #expect(combined.cells.allSatisfy { $0.parameters.first?.axis == "experiment" })
        let report = ReportBuilder(results: combined, reportCommand: "").build()
        let clean = report.tables.first { $0.id == "clean" }
        #expect(clean?.rows.map { $0.keys[1] } == ["fixture", "fixture", "other", "other"])
        // One command per experiment.
        guard case .code(let commands)? = report.sections[0].blocks.last else { Issue.record("no commands"); return }
        #expect(commands == "gauntlet run experiments/fixture.yaml\ngauntlet run experiments/fixture.yaml\n")
    }

    @Test func niceTicks() {
        #expect(PlotFrame.niceStep(0.17) == 0.2)
        #expect(PlotFrame.niceStep(3) == 5)
        #expect(PlotFrame.niceStep(0.01) == 0.01)
        let (range, ticks) = PlotFrame.niceDomain([0.13, 0.87])
        #expect(range == 0.0...1.0)
        #expect(ticks.map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    }

    @Test func pngChecksumsMatchPublishedValues() {
        // CRC-32 check value of "123456789" (ISO 3309) and Adler-32 of "Wikipedia".
        #expect(PNGEncoder.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(PNGEncoder.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        let png = PNGEncoder.rgb(width: 2, height: 1, pixels: [(255, 0, 0), (0, 0, 255)])
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR (13 bytes), IDAT: zlib header, one final stored block of 7 bytes (filter byte + 2 RGB pixels), Adler-32; IEND.
        #expect(png.count == 8 + (12 + 13) + (12 + 2 + 5 + 7 + 4) + 12)
    }

    @Test func svgNumbersAndEscaping() {
        #expect(SVGWriter.number(12) == "12" && SVGWriter.number(3.456) == "3.46" && SVGWriter.number(-0.001) == "0")
        #expect(SVGWriter.escape("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;")
        #expect(ReportTable.latexEscape("top_5 & 50% ± $") == "top\\_5 \\& 50\\% $\\pm$ \\$")
    }
}
