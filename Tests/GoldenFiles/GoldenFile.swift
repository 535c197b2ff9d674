import Foundation
import Testing

/// Text outputs compared with golden files (reviewed in diffs); `GAUNTLET_RECORD=1` rewrites
/// the file from the output first.
public struct GoldenFolder: Sendable {
    public let path: String

    /// The `Golden/` folder beside the test file that calls it.
    public init(beside file: String = #filePath) {
        path = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Golden").path
    }

    public func expect(_ name: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = "\(path)/\(name)"
        if ProcessInfo.processInfo.environment["GAUNTLET_RECORD"] == "1" {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text == expected, "\(name) differs from its golden file (GAUNTLET_RECORD=1 rewrites it)", sourceLocation: sourceLocation)
    }
}
