import Foundation

/// Writes a file under a temporary name in the same directory and renames it into place only
/// when the writer finished without error, so a killed or failing run never leaves a
/// half-written result under the final name.
public enum AtomicFile {
    /// Calls `write` with a temporary path next to `destination`, then renames it to `destination`.
    public static func write(to destination: String, _ write: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: destination)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp").path
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
}
