/// Overlaid histograms of one quantity in several groups (an uncertainty score on clean,
/// corrupted and out-of-distribution inputs), drawn as outlines over shared equal-width bins
/// and normalised to the fraction of each group's samples, so groups of different sizes compare.
public struct HistogramChart: Sendable {
    public var title: String
    public var xTitle: String
    public var groups: [(name: String, values: [Double])]
    public var bins = 30

    public init(title: String, xTitle: String, groups: [(name: String, values: [Double])]) {
        self.title = title
        self.xTitle = xTitle
        self.groups = groups
    }

    /// Per group, the fraction of its finite values in each bin, over [low, high].
    public func fractions() -> (low: Double, high: Double, fractions: [[Double]]) {
        let all = groups.flatMap(\.values).filter(\.isFinite)
        var low = all.min() ?? 0, high = all.max() ?? 1
        if low == high { low -= 0.5; high += 0.5 }
        let fractions = groups.map { group in
            var counts = [Double](repeating: 0, count: bins)
            let finite = group.values.filter(\.isFinite)
            for value in finite { counts[min(bins - 1, Int((value - low) / (high - low) * Double(bins)))] += 1 }
            return counts.map { finite.isEmpty ? 0 : $0 / Double(finite.count) }
        }
        return (low, high, fractions)
    }

    public func svg() -> String {
        let (low, high, fractions) = fractions()
        let width = (high - low) / Double(bins)
        let series = zip(groups, fractions).map { group, fraction in
            var points: [(x: Double, y: Double)] = [(low, 0)]
            for (b, value) in fraction.enumerated() {
                points.append((low + Double(b) * width, value))
                points.append((low + Double(b + 1) * width, value))
            }
            points.append((high, 0))
            return LineChart.Series(name: "\(group.name) (n = \(group.values.count))", points: points, markers: false)
        }
        let top = (fractions.flatMap { $0 }.max() ?? 1) * 1.05
        return LineChart(
            title: title, xTitle: xTitle, yTitle: "fraction of samples", series: series,
            xDomain: low...high, yDomain: 0...max(top, 1e-9)
        ).svg()
    }
}
