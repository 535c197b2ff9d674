import Foundation

/// Progress of a run on standard error: on a terminal, one status line redrawn in place under
/// the log lines (trials done, failed, remaining, ETA); otherwise a plain line per finished trial.
final class ProgressDisplay: @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let started = Date()
    private var status = ""

    /// A log line, printed above the status line.
    func log(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        write(isTerminal && !status.isEmpty ? "\r\u{1B}[2K\(line)\n\(status)" : "\(line)\n")
    }

    func update(finished: Int, failed: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        let elapsed = Date().timeIntervalSince(started)
        let remaining = total - finished
        let eta = finished > 0 ? Self.duration(elapsed / Double(finished) * Double(remaining)) : "?"
        let text = "[\(finished)/\(total)] \(failed) failed, \(remaining) remaining, ETA \(eta)"
        if isTerminal {
            let width = 24
            let filled = total > 0 ? width * finished / total : width
            status = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] " + text
            write("\r\u{1B}[2K" + status + (finished == total ? "\n" : ""))
            if finished == total { status = "" }
        } else {
            write("progress: \(text)\n")
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
