/// What a batch of samples is supervised by: class labels, or real-valued targets `[N, T]`.
public enum Supervision: Sendable {
    case labels([Int])
    case targets(Tensor)

    /// The supervision of samples `range` (a batch slice).
    public func slice(_ range: Range<Int>) -> Supervision {
        switch self {
        case .labels(let labels): .labels(Array(labels[range]))
        case .targets(let targets): .targets(targets.slice(range))
        }
    }

    /// Samples supervised.
    public var count: Int {
        switch self {
        case .labels(let labels): labels.count
        case .targets(let targets): targets.shape[0]
        }
    }
}
