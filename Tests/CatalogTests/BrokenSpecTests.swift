import Catalog
import Foundation
import Spec
import Testing

/// Golden files: every `BrokenSpecs/*.yaml` has a `.expected` file with the exact messages
/// `gauntlet validate` prints for it (paths relative to the folder). `GAUNTLET_RECORD=1`
/// rewrites them; review the diff.
@Suite struct BrokenSpecTests {
    static let directory = "\(packageRoot)/Tests/CatalogTests/BrokenSpecs"

    static var cases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test func theCorpusIsLargeEnough() {
        #expect(Self.cases.count >= 30)
    }

    @Test(arguments: cases) func messagesMatchTheGoldenFile(name: String) throws {
        let messages: String
        do {
            _ = try ResolvedGrid.load("\(Self.directory)/\(name)")
            messages = "valid\n"
        } catch {
            messages = error.issues.map { $0.description.replacingOccurrences(of: Self.directory + "/", with: "") + "\n" }.joined()
        }
        let expectedPath = "\(Self.directory)/\(name.dropLast(5)).expected"
        if ProcessInfo.processInfo.environment["GAUNTLET_RECORD"] == "1" {
            try messages.write(toFile: expectedPath, atomically: true, encoding: .utf8)
        }
        #expect(messages != "valid\n", "\(name) should be broken")
        #expect(messages == (try String(contentsOfFile: expectedPath, encoding: .utf8)), "\(name)")
    }
}
