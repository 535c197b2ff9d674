/// What a batch of samples is supervised by: class labels, or real-valued targets `[N, T]`.
public enum Supervision: Sendable {
    case labels([Int])
    case targets(Tensor)

    /// Samples supervised.
    public var count: Int {
        switch self {
        case .labels(let labels): labels.count
        case .targets(let targets): targets.shape[0]
        }
    }
}
