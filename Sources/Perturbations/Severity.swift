/// The published severity levels 1–5 of a corruption, one table for small images and one for
/// large ones.
///
/// Hendrycks & Dietterich ("Benchmarking Neural Network Robustness to Common Corruptions and
/// Perturbations", ICLR 2019) published two sets of constants: CIFAR-10-C (32×32) and
/// ImageNet-C (224×224). The CIFAR constants are much milder; applying ImageNet's to a 28×28
/// image destroys it. Images whose larger side is at most `smallImageLimit` (64) pixels use the
/// CIFAR table, larger ones the ImageNet table.
public struct SeverityTable<Value: Sendable>: Sendable {
    /// The largest image side, in pixels, that uses the CIFAR-10-C constants.
    public static var smallImageLimit: Int { 64 }

    public let cifar: [Value]
    public let imagenet: [Value]

    public init(cifar: [Value], imagenet: [Value]) {
        precondition(cifar.count == 5 && imagenet.count == 5, "a severity table has five levels")
        self.cifar = cifar
        self.imagenet = imagenet
    }

    /// The parameters of `severity` (1–5) for images of shape `[…, H, W]`.
    public func value(_ severity: Int, imageShape: [Int]) -> Value {
        let side = imageShape.suffix(2).max() ?? 0
        return (side <= Self.smallImageLimit ? cifar : imagenet)[severity - 1]
    }
}

/// How a corruption's strength is given: a published severity level, or explicit parameters.
enum Strength {
    /// Messages when neither or both of `severity` and the explicit parameters are given, or
    /// the severity is out of 1–5. `explicit` names the parameters that replace a severity and
    /// whether each is present.
    static func problems(severity: Int?, explicit: [(name: String, present: Bool)]) -> [String] {
        let given = explicit.filter(\.present).map(\.name)
        let names = explicit.map(\.name).joined(separator: ", ")
        if let severity {
            var found: [String] = []
            if !(1...5).contains(severity) { found.append("severity must be 1–5, got \(severity)") }
            if !given.isEmpty {
                found.append("severity \(severity) and explicit \(given.joined(separator: ", ")) are both given; give one or the other")
            }
            return found
        }
        if given.count == explicit.count { return [] }
        if given.isEmpty { return ["severity (1–5) or \(names) is needed"] }
        return ["severity (1–5) or all of \(names) is needed; missing \(explicit.filter { !$0.present }.map(\.name).joined(separator: ", "))"]
    }

    /// A label: `kind(severity=3)` or `kind(std=0.1)`.
    static func label(_ kind: String, severity: Int?, _ explicit: [(String, Float?)]) -> String {
        if let severity { return "\(kind)(severity=\(severity))" }
        let parts = explicit.compactMap { name, value in value.map { "\(name)=\(formatParameter($0))" } }
        return "\(kind)(\(parts.joined(separator: ",")))"
    }
}
