import Spec

/// One cell of an experiment's grid: what to train and evaluate, with its seed and stable id.
public struct Trial: Sendable, Equatable {
    /// Position in the grid, from 0.
    public var index: Int
    /// The model this trial trains (its index in `models`).
    public var modelIndex: Int
    public var modelName: String
    /// The root seed of every random stream in this trial.
    public var seed: UInt64
    /// A content hash of everything that determines the trial's results (16 hex digits).
    public var id: String
}

/// Expands an experiment into trials. Today: one trial per declared model, all with the
/// experiment's seed.
public enum GridExpansion {
    public static func trials(for spec: ExperimentSpec) -> [Trial] {
        let shared = [spec.dataset.canonicalParameters, spec.training.canonical,
                      spec.noise.map(\.canonicalParameters).joined(separator: ","),
                      spec.attacks.map(\.canonicalParameters).joined(separator: ",")]
        return spec.models.enumerated().map { index, model in
            let content = (shared + [model.canonical, "seed=\(spec.seed)"]).joined(separator: "|")
            return Trial(index: index, modelIndex: index, modelName: model.name, seed: spec.seed, id: TrialID.hash(content))
        }
    }
}

/// Stable identifiers: 64-bit FNV-1a over UTF-8 text, printed as 16 hex digits.
/// Independent of Swift's per-process `Hasher`, so identical across runs and machines.
public enum TrialID {
    public static func hash(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
