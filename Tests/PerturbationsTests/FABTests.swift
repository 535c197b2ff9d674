import Datasets
import Evaluation
import Foundation
import Layers
import Tensors
import Testing
@testable import Perturbations

/// FAB's box-constrained projections on hand-derived cases, and the attack's minimal
/// perturbation on a linear classifier, where the closest boundary point is known exactly.
@Suite struct FABTests {
    func project(_ point: [Float], _ normal: [Float], change c: Double, _ norm: AttackNorm) -> [Float] {
        var d = [Float](repeating: 0, count: point.count)
        var scratch = FAB.ProjectionScratch()
        let offset = zip(point, normal).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } + c
        point.withUnsafeBufferPointer { p in
            normal.withUnsafeBufferPointer { w in
                d.withUnsafeMutableBufferPointer { FAB.projection(of: p, normal: w, offset: offset, norm: norm, into: $0, scratch: &scratch) }
            }
        }
        return d
    }

    func close(_ a: [Float], _ b: [Float]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) < 1e-6 } }

    @Test func projectionsOnHandDerivedCases() {
        // Inside the box: L∞ moves every coordinate by |c| / ‖w‖₁ along sign(w); L2 by c·w / ‖w‖².
        #expect(close(project([0.5, 0.5], [2, 1], change: 0.3, .linf), [0.1, 0.1]))
        #expect(close(project([0.5, 0.5], [2, 1], change: 0.3, .l2), [0.12, 0.06]))
        #expect(close(project([0.5, 0.5], [1, -1], change: -0.2, .linf), [-0.1, 0.1]))
        #expect(close(project([0.5, 0.5, 0.5], [1, 0, -2], change: 0.6, .linf), [0.2, 0, -0.2]))
        // The box binds: coordinate 0 can rise by 0.1 only, so coordinate 1 carries the rest.
        #expect(close(project([0.9, 0.5], [1, 1], change: 0.4, .linf), [0.1, 0.3]))
        #expect(close(project([0.9, 0.5], [1, 1], change: 0.4, .l2), [0.1, 0.3]))
        // L2 with unequal weights and a binding box: d = (min(λ·2, 0.1), λ) with 2·0.1 + λ = 0.5.
        #expect(close(project([0.9, 0.5], [2, 1], change: 0.5, .l2), [0.1, 0.3]))
        // Out of reach: every coordinate goes to the box's edge.
        #expect(close(project([0.9, 0.8], [1, 1], change: 0.5, .linf), [0.1, 0.2]))
        #expect(close(project([0.9, 0.8], [1, 1], change: 0.5, .l2), [0.1, 0.2]))
        #expect(close(project([0.3, 0.4], [1, 1], change: 0, .l2), [0, 0]))
    }

    /// Random hyperplanes: the move reaches the plane, stays in the box, and no feasible move
    /// is shorter (checked against random feasible moves scaled onto the plane).
    @Test func projectionsAreFeasibleAndMinimal() {
        var rng = RandomSource(seed: 11)
        for norm in [AttackNorm.linf, .l2] {
            for _ in 0..<50 {
                let size = 6
                let p = (0..<size).map { _ in rng.uniform(0, 1) }
                let w = (0..<size).map { _ in rng.uniform(-1, 1) }
                let c = Double(rng.uniform(-0.3, 0.3))
                let d = project(p, w, change: c, norm)
                let reached = zip(d, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let reachable = zip(p, w).reduce(0.0) { $0 + Double(c > 0 ? ($1.1 > 0 ? 1 - $1.0 : -$1.0) : ($1.1 > 0 ? -$1.0 : 1 - $1.0)) * Double($1.1) }
                #expect(zip(p, d).allSatisfy { (-1e-6...1.000001).contains($0 + $1) })
                if abs(reachable) < abs(c) { continue }
                #expect(abs(reached - c) < 1e-5, "reached \(reached) of \(c)")
                let length = FAB.length(d, norm)
                for _ in 0..<200 {
                    // A feasible alternative: a random move toward the plane, scaled to reach it.
                    let v = (0..<size).map { _ in rng.uniform(-1, 1) }
                    let along = zip(v, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                    guard abs(along) > 1e-3 else { continue }
                    let scaled = v.map { $0 * Float(c / along) }
                    guard zip(p, scaled).allSatisfy({ (0...1).contains($0 + $1) }) else { continue }
                    #expect(FAB.length(scaled, norm) >= length - 1e-5)
                }
            }
        }
    }

    /// The scan of `projection` and the sorted walk find the same root, also where many
    /// coordinates saturate (points on the box's faces, changes up to the reachable maximum).
    @Test func theScanAgreesWithTheSortedWalk() {
        var rng = RandomSource(seed: 21)
        for norm in [AttackNorm.linf, .l2] {
            for trial in 0..<40 {
                let size = 300
                let p = (0..<size).map { _ in rng.nextUnitFloat() < 0.3 ? Float(rng.nextIndex(below: 2)) : rng.uniform(0, 1) }
                let w = (0..<size).map { i in i % 7 == 0 ? 0 : rng.uniform(-1, 1) }
                let reach = zip(p, w).reduce(0.0) { $0 + Double($1.1 > 0 ? 1 - $1.0 : $1.0) * Double(abs($1.1)) }
                let c = reach * Double(trial) / 40
                let d = project(p, w, change: c, norm)
                var scratch = FAB.ProjectionScratch()
                scratch.reserve(size)
                for i in 0..<size {
                    let direction: Float = w[i] > 0 ? 1 : (w[i] < 0 ? -1 : 0)
                    let k = norm == .linf ? abs(direction) : abs(w[i])
                    scratch.tau[i] = k > 0 ? (direction > 0 ? 1 - p[i] : p[i]) / k : 0
                    scratch.move[i] = direction * k
                    scratch.slope[i] = abs(w[i]) * k
                }
                let slope = scratch.slope.reduce(0.0) { $0 + Double($1) }
                let root = Float(FAB.sortedRoot(target: c, slope: slope, scratch: scratch, size: size))
                let walked = (0..<size).map { scratch.move[$0] * min(root, scratch.tau[$0]) }
                #expect(zip(d, walked).allSatisfy { abs($0 - $1) < 1e-5 }, "\(norm), change \(c)")
                let reached = zip(d, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                #expect(abs(reached - c) < 1e-3 * max(1, c), "\(norm): reached \(reached) of \(c)")
            }
        }
    }

    /// On a binary linear classifier `f(x) = (w₁ − w₀)·x + b₁ − b₀`, the smallest perturbation
    /// that flips the decision is the distance to the hyperplane: `|f(x)| / ‖w₁ − w₀‖₁` in L∞ and
    /// `|f(x)| / ‖w₁ − w₀‖₂` in L2 (when the box does not bind). FAB finds it.
    @Test func findsTheExactMinimalPerturbationOfALinearClassifier() throws {
        var rng = RandomSource(seed: 3)
        let model = try Sequential(layers: [("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 2))], inputShape: [1, 4, 4], rng: &rng)
        let linear = model.layers[1].layer as! Linear
        let w = (0..<16).map { Double(linear.weight.value[1, $0] - linear.weight.value[0, $0]) }
        let b = Double(linear.bias!.value.scalars[1] - linear.bias!.value.scalars[0])
        var checked = 0
        for standard in [StandardNorm.linf, .l2] {
            let norm = standard.measure
            for _ in 0..<20 {
                let x = (0..<16).map { _ in rng.uniform(0.35, 0.65) }
                let f = zip(w, x).reduce(b) { $0 + $1.0 * Double($1.1) }
                let dual = norm == .linf ? w.reduce(0) { $0 + abs($1) } : w.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let exact = abs(f) / dual
                // Keep cases where the box does not bind (every coordinate moves by less than 0.35).
                let largestMove = norm == .linf ? exact : exact * w.map(abs).max()! / dual
                guard largestMove < 0.3, exact > 1e-3 else { continue }
                let images = Tensor(shape: [1, 1, 4, 4], scalars: x)
                let label = f > 0 ? 1 : 0
                let attack = FAB(epsilon: norm == .linf ? 1 : 10, norm: standard)
                let out = attack.perturb(images: images, labels: [label], model: model, rng: &rng)
                let found = Double(FAB.distance(out, images, sample: 0, norm: norm))
                #expect(model.logits(out).argMax(axis: 1)[0] != label)
                #expect(abs(found - exact) <= 1e-4 * exact + 1e-6, "\(norm): found \(found), exact \(exact)")
                // Without the final bisection the overshoot η = 1.05 leaves the walk just beyond the boundary.
                let walk = FAB(epsilon: attack.epsilon, norm: standard, finalSearch: false).perturb(images: images, labels: [label], model: model, rng: &rng)
                let walked = Double(FAB.distance(walk, images, sample: 0, norm: norm))
                #expect(walked >= exact * (1 - 1e-5) && walked <= exact * 1.01, "\(norm): walk \(walked), exact \(exact)")
                checked += 1
            }
        }
        #expect(checked >= 10)
    }

    /// On a trained network: FAB and FAB-T lower the accuracy, stay within ε and the box, FAB-T
    /// over all 3 other classes is at least as strong as over 1, and a failed sample keeps its
    /// clean image.
    @Test func untargetedAndTargetedFABAttackATrainedModel() throws {
        let (model, test) = try trainedSyntheticMLP()
        let images = test.images.slice(0..<100), labels = Array(test.labels[0..<100])
        let clean = model.logits(images).argMax(axis: 1)
        func run(_ attack: FAB) -> (accuracy: Double, out: Tensor) {
            var rng = RandomSource(seed: 5)
            let out = attack.perturb(images: images, labels: labels, model: model, rng: &rng)
            let predicted = model.logits(out).argMax(axis: 1)
            return (Double(zip(predicted, labels).filter { $0 == $1 }.count) / 100, out)
        }
        let cleanAccuracy = Double(zip(clean, labels).filter { $0 == $1 }.count) / 100
        for standard in [StandardNorm.linf, .l2] {
            let norm = standard.measure
            let epsilon: Float = norm == .linf ? 0.05 : 0.5
            let untargeted = run(FAB(epsilon: epsilon, norm: standard, steps: 20))
            let one = run(FAB(epsilon: epsilon, norm: standard, steps: 20, targetClasses: 1))
            let all = run(FAB(epsilon: epsilon, norm: standard, steps: 20, targetClasses: 3))
            #expect(untargeted.accuracy < cleanAccuracy - 0.05, "\(norm): clean \(cleanAccuracy), FAB \(untargeted.accuracy)")
            #expect(all.accuracy <= one.accuracy && all.accuracy < cleanAccuracy - 0.05, "\(norm): FAB-T(1) \(one.accuracy), FAB-T(3) \(all.accuracy)")
            for result in [untargeted, all] {
                #expect(result.out.scalars.allSatisfy { (0...1).contains($0) })
                let predicted = model.logits(result.out).argMax(axis: 1)
                for n in 0..<100 {
                    let moved = FAB.distance(result.out, images, sample: n, norm: norm)
                    #expect(moved <= epsilon * 1.0001)
                    if predicted[n] == labels[n] { #expect(moved == 0, "sample \(n) not fooled but moved \(moved)") }
                }
            }
        }
        #expect(FAB(epsilon: 0.1, targetClasses: 9).label == "fab(epsilon=0.1,target_classes=9)")
        #expect(FAB(epsilon: 0.1, finalSearch: false).label == "fab(epsilon=0.1,final_search=false)")
        #expect(FAB(epsilon: 0.1, targetClasses: 9).problems(classCount: 4) == ["target_classes must be at most 3 (the classes other than the label), got 9"])
    }
}
