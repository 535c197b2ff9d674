/// Which part of a grid one process runs: trials whose index is `index` modulo `count`.
public struct Shard: Sendable, Equatable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public static let all = Shard(index: 0, count: 1)

    /// Parses `i/N` with 0 ≤ i < N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else { return nil }
        self.init(index: i, count: n)
    }

    public func contains(_ trialIndex: Int) -> Bool { trialIndex % count == index }
}
