import Foundation

/// Writes a file under a temporary name in the same directory and renames it into place only
/// when the writer finished without error, so a killed or failing run never leaves a
/// half-written result under the final name.
public enum AtomicFile {
    /// Calls `write` with a temporary path next to `destination`, then renames it to `destination`.
    /// The temporary name is `.<file name>.<host>.<pid>.tmp`.
    public static func write(to destination: String, _ write: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: destination)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(host).\(ProcessInfo.processInfo.processIdentifier).tmp").path
        do {
            try write(temporary)
            if rename(temporary, destination) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination])
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Removes the temporary files in `directory` left by processes of this host that no longer
    /// run (a killed run); files of other hosts (shards on a shared filesystem) are left alone.
    /// Returns the names removed.
    @discardableResult
    public static func removeAbandoned(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            let parts = name.dropLast(4).split(separator: ".")
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 1]), String(parts[parts.count - 2]) == host else { continue }
            if !isRunning(pid) {
                try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
                removed.append(name)
            }
        }
        return removed
    }

    /// Whether process `pid` exists and is not a zombie. A killed worker whose parent died too
    /// stays a zombie until something reaps it, which in a container may be never; it writes
    /// nothing more either way.
    static func isRunning(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        // The state letter follows the command name in parentheses: "pid (name) S …".
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    /// This machine's name without dots (it is one field of a dotted file name).
    static let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: ".", with: "-")
}
