import Foundation

/// Slurm's command-line clients (`sbatch`, `scontrol`, `scancel`), found on the `PATH`; they
/// reach the cluster that `SLURM_CONF` or the default configuration names.
public struct SlurmClient: Sendable {
    public init() {}

    /// Submits a script; returns its job id (`sbatch --parsable` prints `id` or `id;cluster`).
    public func submit(_ script: String) throws -> String {
        let output = try run("sbatch", ["--parsable", script])
        guard let id = output.split(separator: "\n").last?.split(separator: ";").first.map(String.init),
            !id.isEmpty, id.allSatisfy(\.isNumber)
        else {
            throw SlurmError(command: "sbatch \(script)", message: "unexpected answer '\(output.trimmingCharacters(in: .whitespacesAndNewlines))'")
        }
        return id
    }

    /// The cluster's `MaxArraySize` (array indices go up to one less), from `scontrol show config`.
    public func maxArraySize() throws -> Int {
        let output = try run("scontrol", ["show", "config"])
        for line in output.split(separator: "\n") where line.hasPrefix("MaxArraySize") {
            if let value = line.split(separator: "=").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) { return value }
        }
        throw SlurmError(command: "scontrol show config", message: "no MaxArraySize in its output")
    }

    /// The records of job `id` (every task of an array); nil when Slurm no longer knows the job
    /// (it ended more than `MinJobAge` ago, or the id is wrong).
    public func job(_ id: String) throws -> [SlurmJob]? {
        do {
            return SlurmJob.parse(try run("scontrol", ["-o", "show", "job", id]))
        } catch let error as SlurmError where error.message.contains("Invalid job id") {
            return nil
        }
    }

    public func cancel(_ ids: [String]) throws {
        _ = try run("scancel", ids)
    }

    /// Runs a Slurm client and returns its standard output; a missing client or a non-zero exit
    /// throws with the client's own message.
    func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw SlurmError(command: tool, message: "cannot start: \(error)")
        }
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = errors.trimmingCharacters(in: .whitespacesAndNewlines)
            if process.terminationStatus == 127 {
                throw SlurmError(command: tool, message: "not found; is Slurm installed here, and on the PATH?")
            }
            throw SlurmError(
                command: ([tool] + arguments).joined(separator: " "),
                message: message.isEmpty ? "exit status \(process.terminationStatus)" : message)
        }
        return output
    }
}

/// A Slurm client failed; `message` is what it said.
public struct SlurmError: Error, CustomStringConvertible {
    public var command: String
    public var message: String

    public init(command: String, message: String) {
        self.command = command
        self.message = message
    }

    public var description: String { "\(command): \(message)" }
}
