import Spec

/// How one-vs-rest ranking areas of several classes become one number: `macro`, the unweighted
/// mean, or `weighted`, weighted by each class's positives.
public enum RankingAverage: String, ParameterChoice {
    case macro, weighted
}

/// The shared shape of the `auroc` and `average_precision` kinds: a ranking quantity of
/// `BinaryRanking`, binary or one-vs-rest averaged, with its curve thinned for storage.
protocol RankingMetric: Metric {
    /// The area this kind reports.
    static var value: KeyPath<BinaryRanking, Double> { get }
    /// The exact area, for definitions.
    static var area: String { get }
    /// The curve's named arrays, all of one length.
    static func curve(_ ranking: BinaryRanking) -> [(String, [Double])]
    var average: RankingAverage? { get }
    var curvePoints: Int? { get }
}

extension RankingMetric {
    public var name: String { average == .weighted ? "\(Self.kind)_weighted" : Self.kind }
    public var definition: String {
        let averaged = average == .weighted ? "weighted by their positives" : "unweighted"
        return
            "\(Self.area) Two classes: class 1 is positive, scored by p_1. More classes: one-vs-rest per class c scored by p_c, averaged (\(averaged)) over the classes with both positives and negatives."
    }

    public func problems(classCount: Int) -> [String] {
        var found: [String] = []
        if average != nil, classCount == 2 { found.append("average applies to more than two classes; a two-class task has one positive class (class 1)") }
        if let curvePoints, curvePoints < 0 || curvePoints == 1 { found.append("curve_points must be 0 (no curve) or ≥ 2, got \(curvePoints)") }
        return found
    }

    public func makeAccumulator() -> any MetricAccumulator {
        let weighted = average == .weighted, points = curvePoints ?? 200
        return SampleAccumulator { samples in
            oneVersusRest(samples, weighted: weighted, value: Self.value) { ranking, c in
                let arrays = Self.curve(ranking)
                let kept = thinned(arrays[0].1.count, limit: points)
                return arrays.map { name, values in (name, kept.map { values[$0] }) } + [("class", kept.map { _ in Double(c) })]
            }
        }
    }
}

/// A ranking metric over the samples: binary (class 1 positive) for two classes, else the
/// one-vs-rest average over the classes where it is defined, with each class's curve arrays.
func oneVersusRest(
    _ samples: ProbabilityTable, weighted: Bool, value: KeyPath<BinaryRanking, Double>,
    curve: (BinaryRanking, Int) -> [(String, [Double])]
) -> MetricResult {
    guard samples.count > 0 else { return MetricResult(scalars: [.nan]) }
    let classes = samples.classes == 2 ? [1] : Array(0..<samples.classes)
    var sum = 0.0, weights = 0.0
    var arrays: [(String, [Double])] = []
    for c in classes {
        let ranking = BinaryRanking(scores: samples.column(c), isPositive: samples.labels.map { $0 == c })
        guard ranking.isDefined else { continue }
        let weight = weighted ? Double(ranking.positives) : 1
        sum += weight * ranking[keyPath: value]
        weights += weight
        let points = curve(ranking, c)
        if arrays.isEmpty { arrays = points.map { ($0.0, []) } }
        for index in points.indices { arrays[index].1 += points[index].1 }
    }
    let stored = arrays.first.map { !$0.1.isEmpty } ?? false
    return MetricResult(
        scalars: [weights == 0 ? .nan : sum / weights],
        arrays: stored ? arrays.map { MetricArray(curve: $0.0, values: $0.1) } : [])
}
