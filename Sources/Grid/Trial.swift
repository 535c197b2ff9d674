import Spec

/// One cell of an experiment's grid: its own decoded spec, the model it trains, its seed and
/// a stable identifier.
public struct Trial: Sendable {
    /// Position in the grid, from 0.
    public var index: Int
    /// The cell's spec: the file with this cell's value substituted for every sweep.
    public var spec: ExperimentSpec
    /// The model this trial trains (its index in `spec.models`).
    public var modelIndex: Int
    public var modelName: String
    /// Which repeat this is, from 0 (`repeats:` in the file).
    public var repeatIndex: Int
    /// The root seed of every random stream in this trial: the spec's seed for repeat 0, and a
    /// seed derived from it by SHA-256 for later repeats.
    public var seed: UInt64
    /// The first 16 hex digits of the SHA-256 of `{"cell":…,"model":…,"seed":…}`: the cell's
    /// settings as canonical JSON (without the model list, name, description and comments), the
    /// chosen model's declaration and the seed: everything that determines the trial's results.
    public var id: String
    /// The swept values of this cell, by axis, in grid order (`attacks[0].epsilon` → `0.05`).
    public var parameters: [(axis: String, value: String)]
    /// The canonical JSON whose SHA-256 is `id` (stored with the results).
    public var resolvedSpec: String
    /// The canonical settings of the whole cell except its seed: trials with equal keys resolve
    /// to the same components.
    public var cellKey: String
}

/// Seeds for repeats, derived the same way in every process and on every machine.
public enum TrialSeed {
    public static func seed(base: UInt64, repeatIndex: Int) -> UInt64 {
        guard repeatIndex > 0 else { return base }
        let digest = SHA256.digest(Array("gauntlet-seed:\(base)/repeat:\(repeatIndex)".utf8))
        return digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

extension Trial {
    /// `model` alone, or `model` with the swept values (`cnn attacks[0].epsilon=0.05 repeat=1`).
    public var label: String {
        ([modelName] + parameters.filter { $0.axis != "model" }.map { "\($0.axis)=\($0.value)" }).joined(separator: " ")
    }
}
