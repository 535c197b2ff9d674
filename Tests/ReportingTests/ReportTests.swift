import Foundation
import GoldenFiles
@testable import Reporting
import Testing

/// Golden files of the report's tables (Markdown, LaTeX) and of one SVG per figure kind, in
/// `Golden/`; `GAUNTLET_RECORD=1` rewrites them. Review their diffs, and open the SVGs.
@Suite struct ReportGoldenTests {
    let golden = GoldenFolder()

    var report: Report { ReportBuilder(results: ReportFixture.results(failing: true), reportCommand: "gauntlet report results/fixture").build() }

    @Test func tablesInMarkdownAndLaTeX() throws {
        let report = self.report
        try golden.expect("report-fixture.md", ReportWriter.markdown(report))
        let tables = Dictionary(uniqueKeysWithValues: report.tables.map { ($0.id, $0) })
        #expect(Set(tables.keys) == ["clean", "corruptions", "attacks", "robustness", "strongest_attack", "ood", "attributions", "per_class", "trials"])
        for id in ["clean", "robustness", "strongest_attack"] {
            try golden.expect("table-\(id).tex", tables[id]!.latex())
        }
    }

    @Test func oneFigurePerKind() throws {
        let figures = Dictionary(uniqueKeysWithValues: report.figures.map { ($0.id, $0) })
        for kind in [
            "corruption_severity", "robustness_curve", "learning_curve", "reliability", "roc", "precision_recall", "confusion",
            "uncertainty", "attributions", "layers",
        ] {
            let figure = try #require(figures["\(kind)-1"], "no \(kind) figure")
            try golden.expect("figure-\(kind).svg", figure.svg)
        }
    }

    @Test func htmlIsSelfContained() {
        let html = ReportWriter.html(report)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // Nothing is fetched: no scripts, stylesheets, fonts or images by address (the SVG
        // namespace URI is an identifier, not a fetch).
        for pattern in ["<script", "<link", "src=\"http", "href=\"http", "url(", "@import"] {
            #expect(!html.contains(pattern), "the report contains \(pattern)")
        }
        #expect(html.components(separatedBy: "<svg ").count - 1 == report.figures.count)
        // The failed trial is named with its message.
        #expect(html.contains("training diverged: loss is nan at epoch 1"))
    }
}
