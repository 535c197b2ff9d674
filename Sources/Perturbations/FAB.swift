import Foundation
import Layers
import Spec
import Tensors

/// The fast adaptive boundary attack (FAB; Croce & Hein, "Minimally distorted adversarial
/// examples with a fast adaptive boundary attack", ICML 2020), L∞ or L2: a minimal-norm attack
/// that walks to the decision boundary by projecting onto its linearisation.
///
/// For a sample `x₀` of label `y` and a current point `x` (start: `x₀`), each step:
/// - the boundary toward class `k` is linearised at `x`: `f_k(x) = z_k − z_y`, `g_k = ∇ₓ f_k`,
///   hyperplane `{u : f_k(x) + g_k·(u − x) = 0}`; untargeted, `k` is the other class with the
///   smallest `|f_k| / ‖g_k‖_*` (`‖·‖_*` the dual norm: L1 for L∞, L2 for L2); FAB-T uses the
///   target (`target_classes: k` runs one targeted attack for each of the `k` classes the clean
///   logits rank highest after the label, AutoAttack's FAB-T uses 9);
/// - `d₁`, `d₂` are the minimal-norm moves from `x` and from `x₀` onto that hyperplane within
///   the pixel box [0, 1] (`FAB.projection`);
/// - `α = min(‖d₁‖ / (‖d₁‖ + ‖d₂‖), α_max)` and `x ← clip((1 − α)(x + η d₁) + α (x₀ + η d₂))`
///   with `α_max = 0.1` and the overshoot `η = 1.05`;
/// - when `x` is misclassified it is kept if closer to `x₀` than the best so far, and
///   `x ← x₀ + β (x − x₀)` with `β = 0.9` walks back toward `x₀`.
///
/// 100 steps by default (AutoAttack's budget). Then, with `final_search` (default true), 20
/// bisection steps on the segment from `x₀` to the best point keep the closest misclassified
/// point of the segment: the overshoot η leaves the walk about 0.5% beyond a linear boundary,
/// and the bisection lands on it (AutoAttack's code omits this step). Only samples the model classifies correctly are
/// attacked; a sample counts as fooled when its closest misclassified point lies within
/// `epsilon`, and its output is that point (else the clean image). Restarts after the first
/// start at `x₀ + (ε/2)·t/‖t‖` (t uniform in [−1, 1]ᵈ for L∞, Gaussian for L2).
public struct FAB: Attack, Equatable {
    public static let kind = "fab"
    public static let defaults = ["norm": "linf", "steps": "100", "restarts": "1", "target_classes": "untargeted", "final_search": "true"]
    public static let summary =
        "Fast adaptive boundary attack (Croce & Hein 2020), L∞ or L2, minimal-norm; targeted over the top classes (FAB-T) with target_classes."

    /// The budget in pixel units (in [0, 1] for L∞, [0, 100] for L2): a sample counts as fooled
    /// when the attack's smallest misclassified perturbation is within it.
    public var epsilon: Float
    /// `linf` (default) or `l2`.
    public var norm: StandardNorm?
    /// Iterations per restart, ≥ 1 (default 100).
    public var steps: Int?
    /// Independent runs, ≥ 1 (default 1).
    public var restarts: Int?
    /// FAB-T: the number of target classes, in 1…classes − 1 (absent: untargeted).
    public var targetClasses: Int?
    /// Bisect toward `x₀` from the best point after the walk (default true).
    public var finalSearch: Bool?

    public init(
        epsilon: Float, norm: StandardNorm? = nil, steps: Int? = nil, restarts: Int? = nil, targetClasses: Int? = nil, finalSearch: Bool? = nil
    ) {
        self.epsilon = epsilon
        self.norm = norm
        self.steps = steps
        self.restarts = restarts
        self.targetClasses = targetClasses
        self.finalSearch = finalSearch
    }

    static let bisectionSteps = 20

    static let alphaMax: Float = 0.1
    static let eta: Float = 1.05
    static let beta: Float = 0.9

    var threat: AttackNorm { (norm ?? .linf).measure }
    var stepCount: Int { steps ?? 100 }

    public func problems() -> [String] {
        var found: [String] = []
        if let problem = threat.epsilonProblem(epsilon) { found.append(problem) }
        if let steps, steps < 1 { found.append("steps must be ≥ 1, got \(steps)") }
        if let restarts, restarts < 1 { found.append("restarts must be ≥ 1, got \(restarts)") }
        if let targetClasses, targetClasses < 1 { found.append("target_classes must be ≥ 1, got \(targetClasses)") }
        return found
    }

    public func problems(classCount: Int) -> [String] {
        if let targetClasses, targetClasses > classCount - 1 {
            return ["target_classes must be at most \(classCount - 1) (the classes other than the label), got \(targetClasses)"]
        }
        return []
    }

    public var label: String {
        var parts = ["epsilon=\(formatParameter(epsilon))"]
        if threat != .linf { parts.append("norm=\(threat.rawValue)") }
        if let steps { parts.append("steps=\(steps)") }
        if let restarts, restarts > 1 { parts.append("restarts=\(restarts)") }
        if let targetClasses { parts.append("target_classes=\(targetClasses)") }
        if finalSearch == false { parts.append("final_search=false") }
        return "\(Self.kind)(\(parts.joined(separator: ",")))"
    }

    public var budget: Float? { epsilon }
    /// Targeted: a gradient and a forward pass per step; untargeted: one gradient pass per other
    /// class (estimated for 10 classes) and a forward pass.
    public var forwardPasses: Double {
        let perStep = targetClasses == nil ? 2.0 * 9 + 1 : 3
        let search = finalSearch == false ? 0 : Double(Self.bisectionSteps)
        return Double(targetClasses ?? 1) * Double(restarts ?? 1) * (perStep * Double(stepCount) + search) + 1
    }

    public func perturb(images: Tensor, labels: [Int], model: Sequential, rng: inout RandomSource) -> Tensor {
        var result = images
        let logits = model.logits(images), classes = logits.shape[1]
        let predicted = logits.argMax(axis: 1)
        var open = labels.indices.filter { predicted[$0] == labels[$0] }
        let ranked: [[Int]]? = targetClasses.map { _ in
            labels.indices.map { n in DLRLoss.order(logits.scalars[(n * classes)..<((n + 1) * classes)]).filter { $0 != labels[n] } }
        }
        // The walk's own point for each fooled sample: the bisection's point lies within float
        // rounding of the boundary, and a batch of another composition may round it back.
        var walked = images
        var fooled: [Int] = []
        for round in 0..<(targetClasses ?? 1) {
            for restart in 0..<(restarts ?? 1) where !open.isEmpty {
                let clean = images.gathering(rows: open)
                let targets = ranked.map { ranked in open.map { ranked[$0][round] } }
                let (adversarial, distance, walk) = run(
                    clean: clean, labels: open.map { labels[$0] }, targets: targets, classes: classes, randomStart: restart > 0, model: model,
                    rng: &rng)
                var stillOpen: [Int] = []
                for (row, n) in open.enumerated() {
                    if distance[row] <= epsilon {
                        copySample(row, from: adversarial, into: &result, at: n)
                        copySample(row, from: walk, into: &walked, at: n)
                        fooled.append(n)
                    } else {
                        stillOpen.append(n)
                    }
                }
                open = stillOpen
            }
        }
        guard finalSearch ?? true, !fooled.isEmpty else { return result }
        // Checked on the whole batch as it is returned: a point rounded back to its label takes
        // the walk's point (misclassified with the overshoot's margin) when within ε, else the
        // clean image.
        let verdict = model.logits(result).argMax(axis: 1)
        for n in fooled where verdict[n] == labels[n] {
            let fallback = Self.distance(walked, images, sample: n, norm: threat) <= epsilon ? walked : images
            copySample(n, from: fallback, into: &result)
        }
        return result
    }

    /// One FAB run on a batch of correctly classified samples: per sample the closest
    /// misclassified point found (the clean image when none), its distance (+∞ when none), and
    /// the walk's point before the final bisection.
    func run(
        clean: Tensor, labels: [Int], targets: [Int]?, classes: Int, randomStart: Bool, model: Sequential, rng: inout RandomSource
    ) -> (best: Tensor, distance: [Float], walked: Tensor) {
        let count = labels.count, size = clean.count / max(1, count)
        var x = randomStart ? start(around: clean, rng: &rng) : clean
        var best = clean
        var distance = [Float](repeating: .infinity, count: count)
        let threat = self.threat
        for _ in 0..<stepCount {
            let (f, g) = boundary(at: x, labels: labels, targets: targets, classes: classes, model: model)
            x.scalars.withUnsafeMutableBufferPointer { p in
                clean.scalars.withUnsafeBufferPointer { c in
                    g.scalars.withUnsafeBufferPointer { w in
                        // Samples are independent: each part steps its own rows with its own buffers.
                        Parallel.forEach(count, grain: 4) { samples in
                            var scratch = ProjectionScratch()
                            var moves = [Float](repeating: 0, count: 2 * size)
                            moves.withUnsafeMutableBufferPointer { m in
                                let d1 = UnsafeMutableBufferPointer(rebasing: m[0..<size]), d2 = UnsafeMutableBufferPointer(rebasing: m[size..<(2 * size)])
                                for n in samples {
                                    let range = (n * size)..<((n + 1) * size)
                                    let point = UnsafeBufferPointer(rebasing: p[range]), origin = UnsafeBufferPointer(rebasing: c[range])
                                    let normal = UnsafeBufferPointer(rebasing: w[range])
                                    // The hyperplane normal·u = b with b = normal·x − f.
                                    var dot: Double = 0
                                    for i in 0..<size { dot += Double(normal[i]) * Double(point[i]) }
                                    let b = dot - Double(f[n])
                                    Self.projection(of: point, normal: normal, offset: b, norm: threat, into: d1, scratch: &scratch)
                                    Self.projection(of: origin, normal: normal, offset: b, norm: threat, into: d2, scratch: &scratch)
                                    let a1 = max(Self.length(UnsafeBufferPointer(d1), threat), 1e-8)
                                    let a2 = max(Self.length(UnsafeBufferPointer(d2), threat), 1e-8)
                                    let alpha = min(max(a1 / (a1 + a2), 0), Self.alphaMax)
                                    for i in 0..<size {
                                        let moved = (point[i] + Self.eta * d1[i]) * (1 - alpha) + (origin[i] + Self.eta * d2[i]) * alpha
                                        p[range.lowerBound + i] = clip01(moved)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let predicted = model.logits(x).argMax(axis: 1)
            for n in 0..<count where predicted[n] != labels[n] {
                let t = Self.distance(x, clean, sample: n, norm: threat)
                if t < distance[n] {
                    distance[n] = t
                    copySample(n, from: x, into: &best)
                }
                for i in (n * size)..<((n + 1) * size) { x.scalars[i] = clean.scalars[i] + (x.scalars[i] - clean.scalars[i]) * Self.beta }
            }
        }
        let walked = best
        if finalSearch ?? true { bisect(&best, &distance, clean: clean, labels: labels, model: model) }
        return (best, distance, walked)
    }

    /// Moves each found point to the closest misclassified point of its segment from the clean
    /// image (bisection on the fraction `s` of `x₀ + s·(x − x₀)`, keeping the misclassified end).
    func bisect(_ best: inout Tensor, _ distance: inout [Float], clean: Tensor, labels: [Int], model: Sequential) {
        let found = labels.indices.filter { distance[$0].isFinite }
        guard !found.isEmpty else { return }
        let size = clean.count / max(1, labels.count)
        let origin = clean.gathering(rows: found), end = best.gathering(rows: found)
        var low = [Float](repeating: 0, count: found.count), high = [Float](repeating: 1, count: found.count)
        var probe = origin
        for _ in 0..<Self.bisectionSteps {
            for row in found.indices {
                let s = (low[row] + high[row]) / 2
                for i in (row * size)..<((row + 1) * size) { probe.scalars[i] = origin.scalars[i] + s * (end.scalars[i] - origin.scalars[i]) }
            }
            let predicted = model.logits(probe).argMax(axis: 1)
            for (row, n) in found.enumerated() {
                let s = (low[row] + high[row]) / 2
                if predicted[row] != labels[n] { high[row] = s } else { low[row] = s }
            }
        }
        for (row, n) in found.enumerated() where high[row] < 1 {
            for i in 0..<size {
                best.scalars[n * size + i] = origin.scalars[row * size + i] + high[row] * (end.scalars[row * size + i] - origin.scalars[row * size + i])
            }
            distance[n] = Self.distance(best, clean, sample: n, norm: threat)
        }
    }

    /// Per sample the linearised boundary's value `f = z_k − z_y` at `x` and its gradient: toward
    /// the sample's target, or (untargeted) toward the closest other class by `|f_k| / ‖g_k‖_*`.
    func boundary(at x: Tensor, labels: [Int], targets: [Int]?, classes: Int, model: Sequential) -> (f: [Float], g: Tensor) {
        func toward(_ classes: [Int]) -> (f: [Float], g: Tensor) {
            let (gradient, logits) = model.inputGradient(images: x) { z, range in
                var seed = Tensor(shape: z.shape)
                let k = z.shape[1]
                for (row, n) in range.enumerated() {
                    seed.scalars[row * k + classes[n]] += 1
                    seed.scalars[row * k + labels[n]] -= 1
                }
                return seed
            }
            let k = logits.shape[1]
            return (labels.indices.map { logits.scalars[$0 * k + classes[$0]] - logits.scalars[$0 * k + labels[$0]] }, gradient)
        }
        if let targets { return toward(targets) }
        let size = x.count / max(1, labels.count)
        var bestF = [Float](repeating: 0, count: labels.count)
        var bestG = Tensor(shape: x.shape)
        var bestScore = [Float](repeating: .infinity, count: labels.count)
        for shift in 1..<classes {
            let (f, g) = toward(labels.map { ($0 + shift) % classes })
            for n in labels.indices {
                let slice = g.scalars[(n * size)..<((n + 1) * size)]
                let dual = threat == .linf ? slice.reduce(0) { $0 + abs($1) } : slice.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let score = abs(f[n]) / (dual + 1e-12)
                if score < bestScore[n] {
                    bestScore[n] = score
                    bestF[n] = f[n]
                    copySample(n, from: g, into: &bestG)
                }
            }
        }
        return (bestF, bestG)
    }

    /// A random start at `x₀ + (ε/2)·t/‖t‖`, clipped to [0, 1].
    func start(around clean: Tensor, rng: inout RandomSource) -> Tensor {
        var x = clean
        let size = clean.count / max(1, clean.shape[0])
        for n in 0..<clean.shape[0] {
            let t = (0..<size).map { _ in threat == .linf ? rng.uniform(-1, 1) : rng.normal() }
            let scale = 0.5 * epsilon / max(Self.length(t, threat), 1e-12)
            for i in 0..<size { x.scalars[n * size + i] = clip01(clean.scalars[n * size + i] + scale * t[i]) }
        }
        return x
    }

    static func length(_ d: [Float], _ norm: AttackNorm) -> Float {
        d.withUnsafeBufferPointer { length($0, norm) }
    }

    static func length(_ d: UnsafeBufferPointer<Float>, _ norm: AttackNorm) -> Float {
        switch norm {
        case .linf: return d.reduce(0) { max($0, abs($1)) }
        case .l2: return d.reduce(0) { $0 + $1 * $1 }.squareRoot()
        case .l1: return d.reduce(0) { $0 + abs($1) }
        }
    }

    /// `‖a_n − b_n‖` of sample `n`.
    static func distance(_ a: Tensor, _ b: Tensor, sample n: Int, norm: AttackNorm) -> Float {
        let size = a.count / max(1, a.shape[0])
        var result: Float = 0
        for i in (n * size)..<((n + 1) * size) {
            let d = a.scalars[i] - b.scalars[i]
            switch norm {
            case .linf: result = max(result, abs(d))
            case .l2: result += d * d
            case .l1: result += abs(d)
            }
        }
        return norm == .l2 ? result.squareRoot() : result
    }

    /// The smallest move `d` (in `norm`) with `normal·(point + d) = offset` and
    /// `point + d ∈ [0, 1]ᵈ`, written into `d`. When the box cannot reach the hyperplane, `d`
    /// moves every coordinate as far as the box allows toward it.
    ///
    /// With `c = offset − normal·point` and `s = sign(c)`, coordinate `i` moves toward
    /// `s·sign(normal_i)` at most `u_i` (its distance to the box's edge that way):
    /// `d_i = s·sign(normal_i)·min(τ·k_i, u_i)` with `k_i = 1` for L∞ (every coordinate moves by
    /// the same amount until it saturates) and `k_i = |normal_i|` for L2 (the KKT conditions of
    /// the Euclidean projection), and `τ ≥ 0` the root of the piecewise-linear increasing
    /// `Σ_i |normal_i|·min(τ·k_i, u_i) = |c|`.
    static func projection(
        of point: UnsafeBufferPointer<Float>, normal: UnsafeBufferPointer<Float>, offset: Double, norm: AttackNorm,
        into d: UnsafeMutableBufferPointer<Float>, scratch: inout ProjectionScratch
    ) {
        let size = point.count
        var dot: Double = 0
        for i in 0..<size { dot += Double(normal[i]) * Double(point[i]) }
        let c = offset - dot
        guard c != 0 else {
            for i in 0..<size { d[i] = 0 }
            return
        }
        let s: Float = c > 0 ? 1 : -1
        let target = abs(c)
        scratch.reserve(size)
        // Per coordinate: its breakpoint τ_i = u_i / k_i, the signed move per unit τ
        // (s·sign(w_i)·k_i) and the slope |w_i|·k_i; a zero weight never moves (τ_i = 0, slope 0).
        var slope: Double = 0
        scratch.tau.withUnsafeMutableBufferPointer { tau in
            scratch.move.withUnsafeMutableBufferPointer { move in
                scratch.slope.withUnsafeMutableBufferPointer { rate in
                    for i in 0..<size {
                        let w = normal[i]
                        let direction: Float = w > 0 ? s : (w < 0 ? -s : 0)
                        let u = direction > 0 ? 1 - point[i] : point[i]
                        let k = norm == .linf ? abs(direction) : abs(w)
                        tau[i] = k > 0 ? u / k : 0
                        move[i] = direction * k
                        rate[i] = abs(w) * k
                        slope += Double(rate[i])
                    }
                }
            }
        }
        // The root satisfies τ ≥ (|c| − saturated) / slope of the unsaturated coordinates (each
        // adds at most slope·τ), so every coordinate whose breakpoint lies below that bound is
        // saturated at the root: saturate them and raise the bound until no more saturate, where
        // the bound is the root. A few linear passes; a sort bounds the worst case.
        var bound = slope > 0 ? target / slope : Double.infinity
        var root = Double.infinity
        var saturatedCount = 0, converged = false
        for _ in 0..<16 where bound.isFinite {
            var saturated: Double = 0, remaining = slope, count = 0
            for i in 0..<size where Double(scratch.tau[i]) < bound {
                saturated += Double(scratch.slope[i]) * Double(scratch.tau[i])
                remaining -= Double(scratch.slope[i])
                count += 1
            }
            if count == saturatedCount {
                root = bound
                converged = true
                break
            }
            saturatedCount = count
            bound = remaining > 1e-30 && saturated < target ? (target - saturated) / remaining : .infinity
        }
        if !converged, bound.isFinite { root = Self.sortedRoot(target: target, slope: slope, scratch: scratch, size: size) }
        let step = Float(root)
        for i in 0..<size { d[i] = scratch.move[i] * min(step, scratch.tau[i]) }
    }

    /// The root by walking the breakpoints in increasing order (the fallback of `projection`).
    static func sortedRoot(target: Double, slope total: Double, scratch: ProjectionScratch, size: Int) -> Double {
        let order = (0..<size).sorted { scratch.tau[$0] < scratch.tau[$1] }
        var saturated: Double = 0, slope = total, previous: Double = 0
        for i in order {
            let t = Double(scratch.tau[i]), r = Double(scratch.slope[i])
            if saturated + slope * t >= target { return slope > 0 ? max(previous, (target - saturated) / slope) : previous }
            saturated += r * t
            slope -= r
            previous = t
        }
        return .infinity
    }

    /// Buffers `projection` reuses between calls (one per thread).
    struct ProjectionScratch {
        var tau: [Float] = []
        var move: [Float] = []
        var slope: [Float] = []

        mutating func reserve(_ size: Int) {
            guard tau.count < size else { return }
            tau = Array(repeating: 0, count: size)
            move = tau
            slope = tau
        }
    }
}
