import ArgumentParser
import Catalog
import Foundation
import Spec

/// How the commands report problems: on standard error, one line per problem, and a non-zero exit.
enum Diagnostics {
    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Resolves an experiment file (with overrides) or prints every problem in it and exits with status 2.
    static func resolve(_ file: String, overrides: [String]) throws -> ResolvedGrid {
        do {
            return try ResolvedGrid.load(file, overrides: overrides)
        } catch {
            for issue in error.issues { printError("error: \(issue)") }
            if error.issues.count > 1 { printError("\(file): \(error.issues.count) problems") }
            throw ExitCode(2)
        }
    }
}
