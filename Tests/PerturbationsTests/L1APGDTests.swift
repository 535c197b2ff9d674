import Datasets
import Foundation
import Layers
import Spec
import Tensors
import Testing
@testable import Perturbations

/// L1-APGD: the projection onto the L1 ball ∩ [0, 1]ᵈ, the sparse step's order statistic, and
/// the attack against the exact L1 distance to a linear classifier's decision boundary.
@Suite struct L1APGDTests {
    func projected(_ clean: [Float], _ move: [Float], epsilon: Float) -> [Float] {
        var point = zip(clean, move).map { $0 + $1 }
        var scratch: [Float] = []
        point.withUnsafeMutableBufferPointer { p in
            clean.withUnsafeBufferPointer { c in PerturbationBall.projectL1(p, around: c, epsilon: epsilon, scratch: &scratch) }
        }
        return zip(point, clean).map { $0 - $1 }
    }

    /// Hand-solved cases. Inside the box the projection soft-thresholds: for moves (0.3, 0.2,
    /// 0.1, 0, −0.4) and ε = 0.5, λ solves 0.9 − 3λ = 0.5 (λ = 2/15). A coordinate stopped by the
    /// box keeps its whole reach while λ is below `|y_i| − reach`: clean (0.9, 0.5, 0.5), moves
    /// (0.5, 0.3, −0.2), ε = 0.3 give 0.1 + (0.3 − λ) + (0.2 − λ) = 0.3, λ = 0.15, so (0.1, 0.15,
    /// −0.05) (clipping first and soft-thresholding after would give (0, 0.2, −0.1), farther).
    @Test func handSolvedProjections() {
        let soft = projected([0.5, 0.5, 0.5, 0.5, 0.5], [0.3, 0.2, 0.1, 0, -0.4], epsilon: 0.5)
        let expected: [Float] = [0.3 - 2 / 15, 0.2 - 2 / 15, 0, 0, -0.4 + 2 / 15]
        #expect(zip(soft, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(soft)")
        let boxed = projected([0.9, 0.5, 0.5], [0.5, 0.3, -0.2], epsilon: 0.3)
        #expect(zip(boxed, [0.1, 0.15, -0.05] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(boxed)")
        // Inside the ball: only the box clip.
        let clipped = projected([0.9, 0.1, 0.5], [0.5, -0.5, 0.2], epsilon: 10)
        #expect(zip(clipped, [0.1, -0.1, 0.2] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(clipped)")
        // ε = 0 returns the clean image.
        #expect(projected([0.2, 0.7], [0.3, -0.4], epsilon: 0) == [0, 0])
    }

    /// Random cases against the optimality conditions, solved independently: the projection is
    /// `clean + sign(y)·clip(|y| − λ, 0, reach)` with λ found here by bisection in Double; the
    /// result is feasible and no farther from the point than other feasible points nearby.
    @Test func randomProjectionsMatchABisectionAndAreOptimal() {
        var rng = RandomSource(seed: 21)
        for trial in 0..<200 {
            let size = 1 + trial % 40
            let clean = (0..<size).map { _ in trial % 5 == 0 ? Float(Int(rng.uniform(0, 3))) / 2 : rng.nextUnitFloat() }
            let scale = [0.01, 0.3, 2][trial % 3]
            let move = (0..<size).map { _ in trial % 7 == 0 && rng.nextUnitFloat() < 0.5 ? 0 : Float(scale) * rng.normal() }
            let epsilon = rng.uniform(0, Float(size) * 0.3)
            let result = projected(clean, move, epsilon: epsilon)
            let reach = (0..<size).map { Double(min(abs(move[$0]), move[$0] >= 0 ? 1 - clean[$0] : clean[$0])) }
            func total(_ lambda: Double) -> Double { (0..<size).reduce(0) { $0 + min(max(Double(abs(move[$1])) - lambda, 0), reach[$1]) } }
            var low = 0.0, high = Double(move.map(abs).max() ?? 0) + 1
            if total(0) > Double(epsilon) {
                for _ in 0..<200 {
                    let middle = (low + high) / 2
                    if total(middle) > Double(epsilon) { low = middle } else { high = middle }
                }
            } else {
                high = 0
            }
            let expected = (0..<size).map { i in
                Float((move[i] >= 0 ? 1 : -1) * min(max(Double(abs(move[i])) - high, 0), reach[i]))
            }
            #expect(zip(result, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "trial \(trial): \(result) against \(expected)")
            let norm = result.reduce(Float(0)) { $0 + abs($1) }
            #expect(norm <= epsilon * (1 + 1e-5) + 1e-6, "trial \(trial): ‖δ‖₁ \(norm) > ε \(epsilon)")
            #expect(zip(clean, result).allSatisfy { (0...1).contains($0 + $1) }, "trial \(trial)")
            // Optimality: feasible points around the answer are never closer to the point.
            let distance = zip(result, move).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
            for _ in 0..<20 {
                var other = result.map { $0 + 0.05 * rng.normal() }
                other = projected(clean, other, epsilon: epsilon)
                let otherDistance = zip(other, move).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
                #expect(otherDistance >= distance - 1e-5, "trial \(trial): a feasible point is closer")
            }
        }
    }

    /// The reference implementation's projection (AutoAttack's `L1_projection`, run by
    /// `scripts/make_l1_projection_fixtures.py`) on random points, box edges and sparse moves.
    @Test func matchesTheReferenceProjection() throws {
        struct Case: Decodable {
            let clean: [Float], move: [Float], epsilon: Float, projected: [Float]
        }
        struct Fixture: Decodable { let cases: [Case] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/l1_projection.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        #expect(fixture.cases.count == 30)
        for (index, item) in fixture.cases.enumerated() {
            let result = projected(item.clean, item.move, epsilon: item.epsilon)
            #expect(zip(result, item.projected).allSatisfy { abs($0 - $1) <= 2e-6 }, "case \(index): \(result) against \(item.projected)")
        }
    }

    @Test func orderStatisticMatchesSorting() {
        var rng = RandomSource(seed: 2)
        for trial in 0..<100 {
            let count = 1 + trial % 50
            let values = (0..<count).map { _ in trial % 3 == 0 ? Float(Int(rng.uniform(0, 4))) : rng.normal() }
            let sorted = values.sorted()
            for rank in [0, count / 2, count - 1] {
                var copy = values
                #expect(APGD.orderStatistic(&copy, rank) == sorted[rank], "trial \(trial), rank \(rank)")
            }
        }
    }

    /// For a linear classifier the smallest L1 change that makes class `k` beat the label `y`
    /// costs, with `v = w_k − w_y` and margin `m = z_y − z_k`, the greedy sum: spend the
    /// coordinates in decreasing `|v_i|` (each moving toward `sign(v_i)` by at most its room in
    /// [0, 1]) until they cover `m`. The minimum over `k` is the exact L1 distance to
    /// misclassification. No attack may fool a sample farther than ε; L1-APGD (both schedules,
    /// untargeted and targeted) fools nearly all samples closer than 0.7 ε.
    @Test func matchesTheExactL1DistanceOfALinearClassifier() throws {
        var rng = RandomSource(seed: 13)
        let model = try Sequential(layers: [("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 4))], inputShape: [1, 4, 4], rng: &rng)
        let linear = model.layers[1].layer as! Linear
        let count = 200
        let images = Tensor.uniform(shape: [count, 1, 4, 4], using: &rng)
        let labels = model.logits(images).argMax(axis: 1)
        func distance(_ n: Int) -> Double {
            let x = (0..<16).map { Double(images.scalars[n * 16 + $0]) }
            let y = labels[n]
            func logit(_ k: Int) -> Double { (0..<16).reduce(Double(linear.bias!.value.scalars[k])) { $0 + Double(linear.weight.value[k, $1]) * x[$1] } }
            var best = Double.infinity
            for k in 0..<4 where k != y {
                var margin = logit(y) - logit(k), cost = 0.0
                let v = (0..<16).map { Double(linear.weight.value[k, $0] - linear.weight.value[y, $0]) }
                for i in (0..<16).sorted(by: { abs(v[$0]) > abs(v[$1]) }) where margin > 0 && v[i] != 0 {
                    let room = v[i] > 0 ? 1 - x[i] : x[i]
                    let used = min(room, margin / abs(v[i]))
                    cost += used
                    margin -= used * abs(v[i])
                }
                if margin <= 1e-12 { best = min(best, cost) }
            }
            return best
        }
        let distances = (0..<count).map(distance)
        let epsilon: Float = Float(distances.filter(\.isFinite).sorted()[count / 2])
        for attack in [
            APGD(epsilon: epsilon, norm: .l1), APGD(epsilon: epsilon, norm: .l1, epsilonSchedule: .decreasing),
            APGD(epsilon: epsilon, norm: .l1, targetClasses: 3),
        ] {
            var attackRNG = RandomSource(seed: 4)
            let out = attack.perturb(images: images, labels: labels, model: model, rng: &attackRNG)
            let predicted = model.logits(out).argMax(axis: 1)
            var near = 0, found = 0
            for n in 0..<count {
                let moved = FAB.distance(out, images, sample: n, norm: .l1)
                #expect(moved <= epsilon * 1.0001 + 1e-6, "\(attack.label): sample \(n) moved \(moved)")
                #expect((0..<16).allSatisfy { (0...1).contains(out.scalars[n * 16 + $0]) })
                if predicted[n] != labels[n] {
                    #expect(distances[n] <= Double(epsilon) * 1.0001, "\(attack.label): sample \(n) fooled at distance \(distances[n]) > ε \(epsilon)")
                }
                if distances[n] < 0.7 * Double(epsilon) {
                    near += 1
                    if predicted[n] != labels[n] { found += 1 }
                }
            }
            #expect(near >= 40 && Double(found) >= 0.95 * Double(near), "\(attack.label): fooled \(found) of \(near) samples within 0.7 ε")
        }
    }

    @Test func parametersAreValidated() {
        #expect(APGD(epsilon: 12, norm: .l1).problems().isEmpty)
        #expect(APGD(epsilon: 12, norm: .l1, epsilonSchedule: .decreasing).label == "apgd(epsilon=12,norm=l1,epsilon_schedule=decreasing)")
        #expect(APGD(epsilon: 0.1, epsilonSchedule: .decreasing).problems() == ["epsilon_schedule decreasing is L1-APGD's (norm: l1); linf walks at ε"])
        #expect(APGD(epsilon: -1, norm: .l1).problems().first?.hasPrefix("epsilon must be in [0, 1000000] for l1") == true)
        // The attacks without an L1 version do not take it (their files are refused at the key).
        #expect(StandardNorm.names == ["linf", "l2"] && AttackNorm.names == ["linf", "l2", "l1"])
    }

    /// Fewer steps than the decreasing schedule's three stages still return a point of the
    /// ε-ball; on the trained MLP both schedules lower the accuracy well below the clean one.
    @Test func decreasingSchedulesStayInTheBallAndAttackATrainedModel() throws {
        let (model, test) = try trainedSyntheticMLP()
        func accuracy(_ attack: APGD?) -> Double {
            var rng = RandomSource(seed: 5)
            let out = attack.map { $0.perturb(images: test.images, labels: test.labels, model: model, rng: &rng) } ?? test.images
            let predicted = model.logits(out).argMax(axis: 1)
            return Double(zip(predicted, test.labels).filter { $0 == $1 }.count) / Double(test.labels.count)
        }
        let clean = accuracy(nil), fixed = accuracy(APGD(epsilon: 1, norm: .l1, steps: 50))
        let decreasing = accuracy(APGD(epsilon: 1, norm: .l1, steps: 50, epsilonSchedule: .decreasing))
        #expect(fixed < clean - 0.1 && decreasing < clean - 0.1, "clean \(clean), fixed \(fixed), decreasing \(decreasing)")
        let images = test.images.slice(0..<20), labels = Array(test.labels[0..<20])
        for steps in [1, 2, 3, 4, 10] {
            var rng = RandomSource(seed: 1)
            let attack = APGD(epsilon: 2, norm: .l1, steps: steps, epsilonSchedule: .decreasing)
            let out = attack.perturb(images: images, labels: labels, model: model, rng: &rng)
            for n in 0..<20 { #expect(FAB.distance(out, images, sample: n, norm: .l1) <= 2 * 1.0001, "steps \(steps), sample \(n)") }
        }
    }
}
