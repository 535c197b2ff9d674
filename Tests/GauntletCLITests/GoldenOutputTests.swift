import ArgumentParser
import Catalog
import Foundation
import GoldenFiles
@testable import GauntletCLI
import Testing

/// Text outputs as golden files in `Golden/`, reviewed in diffs; `GAUNTLET_RECORD=1` rewrites them.
/// The plan pins trial ids and seeds as literal values: they must be the same in every process
/// and on every machine.
@Suite struct GoldenOutputTests {
    let golden = GoldenFolder()

    @Test func planOfTheCheckedInExperiments() throws {
        for name in ["quickstart", "optimizer-sweep", "noise-study"] {
            let grid = try ResolvedGrid.load("\(Binary.packageRoot)/experiments/\(name).yaml")
            try golden.expect("plan-\(name).txt", Plan.render(grid))
        }
        let swept = try ResolvedGrid.load(
            "\(Binary.packageRoot)/experiments/quickstart.yaml",
            overrides: ["attacks[0].epsilon=linspace(0,0.1,3)", "seed=0,1"])
        try golden.expect("plan-quickstart-swept.txt", Plan.render(swept))
        try golden.expect(
            "plan-models-interpretability-study.txt",
            try Plan.renderModels(try ResolvedGrid.load("\(Binary.packageRoot)/experiments/interpretability-study.yaml")))
    }

    @Test func listingAndHelp() throws {
        try golden.expect("list.txt", List.render())
        // Every registered kind is listed under its extension point.
        let listing = List.render()
        for point in Registries.extensionPoints {
            for kind in point.kinds { #expect(listing.contains("\n  \(kind.name): \(kind.summary)\n"), "\(point.name) \(kind.name)") }
        }
        for command in ["run", "sweep", "plan", "inspect", "export", "validate", "list", "schema", "report", "submit", "status"] {
            try golden.expect("help-\(command).txt", helpText(command))
        }
        try golden.expect("help.txt", Gauntlet.helpMessage(columns: 100))
    }

    func helpText(_ command: String) -> String {
        let types: [String: any ParsableCommand.Type] = [
            "run": Run.self, "sweep": Sweep.self, "plan": Plan.self, "validate": Validate.self, "list": List.self, "schema": Schema.self,
            "report": ReportCommand.self, "submit": Submit.self, "status": Status.self, "inspect": Inspect.self, "export": Export.self,
        ]
        return Gauntlet.helpMessage(for: types[command]!, columns: 100)
    }
}
