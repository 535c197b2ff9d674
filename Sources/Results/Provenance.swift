import Foundation
import Tensors

/// Where and how a run happened, stored with its results.
public struct Provenance: Sendable {
    public static let toolVersion = "0.1.0"

    public var toolVersion = Provenance.toolVersion
    /// The git commit of the repository holding the experiment file (`+dirty` when it has
    /// uncommitted changes), or `unknown` outside a repository.
    public var gitCommit: String
    public var host: String
    public var created: String
    public var blasCore: String
    public var blasConfiguration: String
    public var blasThreads: Int
    public var operatingSystem: String
    /// The CPU's model name (`/proc/cpuinfo`) and the cores this process may use.
    public var cpuModel: String
    public var cores: Int

    /// The largest resident memory of this process so far, in MiB (Linux `ru_maxrss`).
    public static var peakMemoryMiB: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    public static func current(specFile: String) -> Provenance {
        let directory = URL(fileURLWithPath: specFile).deletingLastPathComponent().path
        let commit = commits.value(for: directory) {
            var commit = git(["rev-parse", "HEAD"], in: directory) ?? "unknown"
            if commit != "unknown", let status = git(["status", "--porcelain", "--untracked-files=no"], in: directory), !status.isEmpty {
                commit += "+dirty"
            }
            return commit
        }
        let formatter = ISO8601DateFormatter()
        return Provenance(
            gitCommit: commit, host: ProcessInfo.processInfo.hostName, created: formatter.string(from: Date()),
            blasCore: BLAS.kernelName, blasConfiguration: BLAS.configuration, blasThreads: BLAS.threadCount,
            operatingSystem: ProcessInfo.processInfo.operatingSystemVersionString,
            cpuModel: cpuModelName, cores: ProcessInfo.processInfo.activeProcessorCount)
    }

    static var cpuModelName: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let colon = line.firstIndex(of: ":")
        else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    private static func git(_ arguments: [String], in directory: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The git commit of a directory, asked once per process (a serving worker answers many requests).
private let commits = Memo<String>()

final class Memo<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Value] = [:]

    func value(for key: String, _ compute: () -> Value) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value = values[key] { return value }
        let value = compute()
        values[key] = value
        return value
    }
}
