extension Kernels {
    /// One Adam update (PyTorch's rule, `Adam` in Layers) of `count` elements: for each i,
    /// `g = gradient[i] + decay·θ[i]` (decay 0: the gradient alone), `m[i] = β₁·m[i] + (1−β₁)·g`,
    /// `v[i] = β₂·v[i] + ((1−β₂)·g)·g`, `θ[i] −= (stepSize·m[i]) / (√v[i] / rootCorrection2 + ε)`,
    /// each operation rounded in this order, so Gauntlet's kernels (where the CPU has them) and
    /// the loop give the same bits. Runs on the calling thread.
    public static func adamUpdate(
        count: Int, theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        beta1 b1: Float, beta2 b2: Float, eps: Float, decay: Float, stepSize: Float, rootCorrection2: Float
    ) {
        if let kernels = MicroKernels.active {
            kernels.adamUpdate(
                count: count, theta: theta, gradient: gradient, m: m, v: v, beta1: b1, beta2: b2,
                eps: eps, decay: decay, stepSize: stepSize, rootCorrection2: rootCorrection2)
            return
        }
        for i in 0..<count {
            let g = decay == 0 ? gradient[i] : gradient[i] + decay * theta[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            theta[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + eps)
        }
    }
}
