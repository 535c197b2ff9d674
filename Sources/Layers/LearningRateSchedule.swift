import Spec
import Foundation

/// How the learning rate changes from epoch to epoch, as written in an experiment file
/// (`training.schedule: {type: …}`). Epochs count from 0; the optimizer's `lr` is the base rate.
public protocol LearningRateSchedule: SpecKind, Codable {
    static var kind: String { get }
    static var summary: String { get }
    /// Messages for parameters out of range (empty when valid).
    func problems() -> [String]
    /// The learning rate for `epoch` (0-based) of `epochs`, from the base rate.
    func rate(base: Float, epoch: Int, epochs: Int) -> Float
}

/// The same rate every epoch (the default).
public struct ConstantSchedule: LearningRateSchedule, Equatable {
    public static let kind = "constant"
    public static let summary = "The optimizer's learning rate, unchanged."
    public init() {}
    public func problems() -> [String] { [] }
    public func rate(base: Float, epoch: Int, epochs: Int) -> Float { base }
}

/// Decay by `gamma` every `step_size` epochs: `lr · gamma^⌊epoch / step_size⌋` (PyTorch's `StepLR`).
public struct StepSchedule: LearningRateSchedule, Equatable {
    public static let kind = "step"
    public static let defaults = ["gamma": "0.1"]
    public static let summary = "Multiply the learning rate by gamma every step_size epochs (PyTorch StepLR)."
    /// Epochs between decays, ≥ 1.
    public var stepSize: Int
    /// Decay factor in (0, 1] (default 0.1).
    public var gamma: Float = 0.1

    public init(stepSize: Int, gamma: Float = 0.1) {
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(stepSize: try c.decode(Int.self, forKey: .stepSize))
        if let gamma = try c.decodeIfPresent(Float.self, forKey: .gamma) { self.gamma = gamma }
    }

    public func problems() -> [String] {
        (stepSize >= 1 ? [] : ["step_size must be ≥ 1, got \(stepSize)"]) + (gamma > 0 && gamma <= 1 ? [] : ["gamma must be in (0, 1], got \(gamma)"])
    }

    public func rate(base: Float, epoch: Int, epochs: Int) -> Float {
        base * powf(gamma, Float(epoch / stepSize))
    }
}

/// Decay by `gamma` every epoch: `lr · gamma^epoch` (PyTorch's `ExponentialLR`).
public struct ExponentialSchedule: LearningRateSchedule, Equatable {
    public static let kind = "exponential"
    public static let summary = "Multiply the learning rate by gamma every epoch (PyTorch ExponentialLR)."
    /// Decay factor in (0, 1].
    public var gamma: Float

    public init(gamma: Float) { self.gamma = gamma }

    public func problems() -> [String] { gamma > 0 && gamma <= 1 ? [] : ["gamma must be in (0, 1], got \(gamma)"] }

    public func rate(base: Float, epoch: Int, epochs: Int) -> Float { base * powf(gamma, Float(epoch)) }
}

/// Cosine annealing over the run: `eta_min + (lr − eta_min)(1 + cos(π·epoch / epochs)) / 2`
/// (Loshchilov & Hutter, 2017; PyTorch's `CosineAnnealingLR` with `T_max` = epochs, stepped per epoch).
public struct CosineSchedule: LearningRateSchedule, Equatable {
    public static let kind = "cosine"
    public static let defaults = ["eta_min": "0"]
    public static let summary = "Cosine annealing from the learning rate to eta_min over the epochs (PyTorch CosineAnnealingLR)."
    /// The final rate, ≥ 0 (default 0).
    public var etaMin: Float = 0

    public init(etaMin: Float = 0) { self.etaMin = etaMin }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        if let etaMin = try c.decodeIfPresent(Float.self, forKey: .etaMin) { self.etaMin = etaMin }
    }

    public func problems() -> [String] { etaMin >= 0 ? [] : ["eta_min must be ≥ 0, got \(etaMin)"] }

    public func rate(base: Float, epoch: Int, epochs: Int) -> Float {
        let progress = Double(epoch) / Double(max(1, epochs))
        return etaMin + (base - etaMin) * Float((1 + cos(Double.pi * progress)) / 2)
    }
}
