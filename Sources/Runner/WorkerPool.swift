import Foundation
import Results

/// Runs work items on dedicated threads, not on Swift's cooperative pool, where long CPU-bound
/// work starves every other task (progress, I/O). Items are handed out in order to whichever
/// thread is free. After the first error no new item starts; the error is rethrown once every
/// thread has finished its current item.
enum WorkerPool {
    static func run<Item>(_ items: [Item], threads: Int, _ work: @escaping (Item) throws -> Void) throws {
        let count = min(threads, items.count)
        if count <= 1 {
            for item in items { try work(item) }
            return
        }
        let state = State()
        let shared = Unchecked((items, work))
        for worker in 0..<count {
            let thread = Thread {
                while let item = state.next(of: shared.value.0) {
                    do { try shared.value.1(item) } catch { state.record(error) }
                }
                state.finished.signal()
            }
            thread.name = "gauntlet-worker-\(worker)"
            thread.stackSize = 16 << 20
            thread.start()
        }
        for _ in 0..<count { state.finished.wait() }
        if let error = state.error { throw error }
    }

    private final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var position = 0
        private(set) var error: (any Error)?
        let finished = DispatchSemaphore(value: 0)

        func next<Item>(of items: [Item]) -> Item? {
            lock.lock()
            defer { lock.unlock() }
            guard error == nil, position < items.count else { return nil }
            position += 1
            return items[position - 1]
        }

        func record(_ error: any Error) {
            lock.lock()
            if self.error == nil { self.error = error }
            lock.unlock()
        }
    }

    /// Hands values that are only read, or guarded by `State`, to the worker threads.
    private struct Unchecked<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }
}
