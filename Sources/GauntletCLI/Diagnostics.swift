import ArgumentParser
import Catalog
import Foundation
import Spec

/// How the commands report problems: on standard error, one line per problem, and a non-zero exit.
enum Diagnostics {
    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Resolves an experiment file or prints every problem in it and exits with status 2.
    static func resolve(_ file: String) throws -> ResolvedExperiment {
        do {
            return try ResolvedExperiment.load(file)
        } catch {
            for issue in error.issues { printError("error: \(issue)") }
            if error.issues.count > 1 { printError("\(file): \(error.issues.count) problems") }
            throw ExitCode(2)
        }
    }
}
