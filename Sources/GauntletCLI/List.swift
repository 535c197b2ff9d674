import ArgumentParser
import Catalog

/// `gauntlet list`: every kind each extension point knows.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the kinds usable as `type:` in experiment files.")

    func run() {
        for (extensionPoint, kinds) in Catalog.listing {
            print("\(extensionPoint): \(kinds.joined(separator: ", "))")
        }
    }
}
