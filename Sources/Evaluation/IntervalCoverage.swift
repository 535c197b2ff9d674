import Spec
import Foundation
import Layers

/// Coverage of the central prediction interval `μ ± z σ` with `z = Φ⁻¹((1 + level)/2)` (1.645
/// for 90%): `coverage_<L>` is the fraction of target values inside it (best at `level`, for a
/// calibrated predictor), `interval_width_<L>` its mean width `2 z σ` in target units (lower is
/// better at equal coverage), with L the level in percent. `σ²` is the predictive variance; NaN
/// for a predictor without one.
public struct IntervalCoverage: Metric, Equatable {
    public static let kind = "interval_coverage"
    public static let defaults = ["level": "0.9"]
    public static let summary = "Regression: fraction of targets inside the central Gaussian prediction interval at a level, and its mean width."
    public var definition: String {
        "Interval coverage at \(percent)%: the fraction of targets inside μ ± z·σ with z = Φ⁻¹((1 + \(nominal))/2), best at the nominal level; the width column is the mean of 2zσ in target units."
    }
    public static var task: TaskKind { .regression }
    /// The interval's nominal coverage, in (0, 1) (default 0.9).
    public var level: Double?

    public init(level: Double? = nil) { self.level = level }

    var nominal: Double { level ?? 0.9 }
    var percent: String {
        let p = nominal * 100
        return p == p.rounded() ? String(Int(p)) : String(p).replacingOccurrences(of: ".", with: "_")
    }

    public var name: String { "interval_coverage_\(percent)" }
    public var columns: [MetricColumn] {
        [
            MetricColumn("coverage_\(percent)", higherIsBetter: true, ideal: nominal),
            MetricColumn("interval_width_\(percent)", higherIsBetter: false),
        ]
    }

    public func problems(classCount: Int) -> [String] {
        guard let level, !(level > 0 && level < 1) else { return [] }
        return ["level must be in (0, 1), got \(level)"]
    }

    public func makeAccumulator() -> any MetricAccumulator {
        let z = Self.standardNormalQuantile((1 + nominal) / 2)
        return CoverageAccumulator(z: z)
    }

    /// `Φ⁻¹(p)` by bisection on `Φ(x) = ½ erfc(−x/√2)`, to about 1e-12.
    static func standardNormalQuantile(_ p: Double) -> Double {
        var low = -40.0, high = 40.0
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if 0.5 * erfc(-middle / 2.0.squareRoot()) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    struct CoverageAccumulator: MetricAccumulator {
        let z: Double
        var inside = 0.0, width = 0.0, count = 0

        mutating func add(_ batch: RegressionBatch) {
            count += batch.mean.count
            guard let variance = batch.variance else {
                inside = .nan
                width = .nan
                return
            }
            for i in batch.mean.indices {
                let halfWidth = z * variance[i].squareRoot()
                if abs(batch.targets[i] - batch.mean[i]) <= halfWidth { inside += 1 }
                width += 2 * halfWidth
            }
        }

        mutating func merge(_ other: any MetricAccumulator) {
            guard let other = other as? CoverageAccumulator else { preconditionFailure("merging accumulators of different metrics") }
            inside += other.inside
            width += other.width
            count += other.count
        }

        var result: MetricResult {
            MetricResult(scalars: count == 0 ? [.nan, .nan] : [inside / Double(count), width / Double(count)])
        }
    }
}
