/// Colours of the figures, chosen to survive colour blindness and grey-scale print.
///
/// Series use the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), with black
/// first; series beyond eight repeat the colours with a dashed line. Magnitudes use a
/// sequential white-to-blue ramp and signed maps a blue–white–red diverging ramp (the two ends
/// differ in lightness as well as hue).
public enum Palette {
    public static let series = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442"]

    public static func color(_ index: Int) -> String { series[index % series.count] }

    /// A dash pattern for series past the palette's length (nil for the first eight).
    public static func dash(_ index: Int) -> String? {
        switch (index / series.count) % 3 {
        case 0: nil
        case 1: "6 3"
        default: "2 2"
        }
    }

    /// White (0) to dark blue (1); values are clipped to [0, 1].
    public static func sequential(_ t: Double) -> (UInt8, UInt8, UInt8) {
        interpolate([(255, 255, 255), (158, 202, 225), (33, 113, 181), (8, 48, 107)], t)
    }

    /// Blue (−1) through white (0) to red (+1); values are clipped to [−1, 1].
    public static func diverging(_ t: Double) -> (UInt8, UInt8, UInt8) {
        interpolate([(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)], (t + 1) / 2)
    }

    public static func hex(_ rgb: (UInt8, UInt8, UInt8)) -> String {
        "#"
            + [rgb.0, rgb.1, rgb.2].map { byte in
                let digits = Array("0123456789ABCDEF")
                return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
            }.joined()
    }

    /// Piecewise-linear interpolation between evenly spaced stops; NaN maps to light grey.
    static func interpolate(_ stops: [(Double, Double, Double)], _ t: Double) -> (UInt8, UInt8, UInt8) {
        guard t.isFinite else { return (220, 220, 220) }
        let x = min(max(t, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2), f = x - Double(i)
        func channel(_ a: Double, _ b: Double) -> UInt8 { UInt8((a + (b - a) * f).rounded()) }
        return (channel(stops[i].0, stops[i + 1].0), channel(stops[i].1, stops[i + 1].1), channel(stops[i].2, stops[i + 1].2))
    }
}
