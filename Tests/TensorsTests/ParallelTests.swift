import Dispatch
import Foundation
import Testing
@testable import Tensors

/// The helper threads behind `Parallel.forEach`: every index once, whoever runs it.
@Suite struct ParallelTests {
    /// Counts, per index, how often a job's parts visited it.
    final class Visits: @unchecked Sendable {
        let counts: UnsafeMutableBufferPointer<Int32>
        init(_ count: Int) {
            counts = .allocate(capacity: max(1, count))
            counts.initialize(repeating: 0)
        }
        deinit { counts.deallocate() }
        func visit(_ range: Range<Int>) { for i in range { counts[i] += 1 } }
        func visitedOnce(_ count: Int) -> Bool { counts.prefix(count).allSatisfy { $0 == 1 } }
    }

    @Test func manyShortJobsInARowEachCoverEveryIndexOnce() {
        // Jobs closer together than the helpers' spin, and some after a pause long enough for
        // them to sleep, with more parts than threads.
        for round in 0..<600 {
            if round % 200 == 199 { usleep(2_000) }
            let count = 1 + round % 97, parts = 2 + round % 7
            let visits = Visits(count)
            Parallel.forEach(count, grain: 1, parts: parts) { range in
                // The last part is slow: the job must wait for it, whichever thread took it.
                if range.upperBound == count { usleep(100) }
                visits.visit(range)
            }
            #expect(visits.visitedOnce(count), "round \(round): count \(count), parts \(parts)")
        }
    }

    @Test func helperThreadsRunPartsAtTheSameTimeAsTheCaller() throws {
        // Each part waits until every part has started, which only parts running at once can
        // do: run one after another on one thread, the first would wait out its 20 s.
        let parts = Parallel.helperThreads + 1
        guard parts >= 2 else { return }
        let lock = NSLock()
        var started = 0, allStarted = 0
        var nestedRanges: [[Range<Int>]] = Array(repeating: [], count: parts)
        var ran = false
        // Another test's job may hold the helpers for a moment.
        while !ran {
            ran = Parallel.forEachOnHelpers(parts, parts: parts) { range in
                lock.withLock { started += range.count }
                let deadline = Date().addingTimeInterval(20)
                while lock.withLock({ started }) < parts, Date() < deadline { usleep(20) }
                if lock.withLock({ started }) == parts { lock.withLock { allStarted += range.count } }
                // Inside a part, a nested job runs on the part's own thread, as one range.
                for part in range {
                    #expect(Parallel.threadsAvailable == 1)
                    var ranges: [Range<Int>] = []
                    Parallel.forEach(10, grain: 1, parts: 4) { ranges.append($0) }
                    lock.withLock { nestedRanges[part] = ranges }
                }
            }
            if !ran { usleep(1_000) }
        }
        #expect(allStarted == parts)
        #expect(nestedRanges == Array(repeating: [0..<10], count: parts))
    }

    @Test func jobsFromSeveralThreadsAtOnceAllComplete() {
        // Four threads start jobs at the same time: one holds the pool, the others run theirs
        // on Dispatch's threads; none is lost or run twice.
        let results = Visits(4)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for round in 0..<150 {
                let count = 50 + caller * 13 + round % 11
                let visits = Visits(count)
                Parallel.forEach(count, grain: 1, parts: 2 + caller) { visits.visit($0) }
                if !visits.visitedOnce(count) { return }
            }
            results.counts[caller] = 1
        }
        #expect(results.visitedOnce(4))
    }
}
