import Foundation
import Results

/// A long-lived child `gauntlet run --serve` process that runs one group of trials per request:
/// the parent writes the group's trial ids as a line on its standard input, the child writes its
/// cells and answers `done`. Its standard error is appended to a log file. If the child dies
/// (a crash, a kill), `run` returns false and the caller starts another.
final class ChildWorker {
    let process = Process()
    private let input: FileHandle
    private let output: FileHandle
    private var buffered = Data()

    init(isolation: ExperimentRunner.Isolation, threads: Int, log: FileHandle) throws {
        let stdin = Pipe(), stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: isolation.executable)
        process.arguments = ["run"] + isolation.arguments + ["--serve", "--jobs", "1", "--blas-threads", String(threads)]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = log
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
        try process.run()
    }

    /// Runs the trials with these ids; false when the child died before answering.
    func run(_ ids: [String]) -> Bool {
        do {
            try input.write(contentsOf: Data((ids.joined(separator: ",") + "\n").utf8))
        } catch {
            return false
        }
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                if line == "done" { return true }
                continue
            }
            let chunk = output.availableData
            if chunk.isEmpty { return false }  // end of file: the child is gone
            buffered.append(chunk)
        }
    }

    /// Why the child ended, once it has.
    var exitReason: String {
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
            ? "crashed (signal \(process.terminationStatus)) while running this trial"
            : "the worker process exited with status \(process.terminationStatus) while running this trial"
    }

    /// Closes the child's input (it exits after its current request) and waits for it.
    func finish() {
        try? input.close()
        process.waitUntilExit()
    }
}

/// One child worker per job, each started on first use and again after it dies.
final class ChildWorkerPool: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [ChildWorker?]
    private var free: [Int]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
        free = Array((0..<count).reversed())
    }

    /// A free slot; there is always one, since at most `count` threads use the pool.
    func checkOut() -> (slot: Int, worker: ChildWorker?) {
        lock.lock()
        defer { lock.unlock() }
        let slot = free.removeLast()
        return (slot, slots[slot])
    }

    func checkIn(_ slot: Int, worker: ChildWorker?) {
        lock.lock()
        slots[slot] = worker
        free.append(slot)
        lock.unlock()
    }

    func finishAll() {
        lock.lock()
        let workers = slots.compactMap { $0 }
        slots = slots.map { _ in nil }
        lock.unlock()
        for worker in workers { worker.finish() }
    }
}
