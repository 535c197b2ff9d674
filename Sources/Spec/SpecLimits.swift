/// Bounds on experiment files, so hostile input (deep nesting, alias bombs, huge scalars)
/// fails fast with a clear error instead of exhausting memory or the stack.
public enum SpecLimits {
    /// Largest file read, in bytes.
    public static let maximumFileBytes = 4 << 20
    /// Deepest nesting of mappings and lists.
    public static let maximumDepth = 64
    /// Most nodes after aliases are expanded.
    public static let maximumNodes = 200_000
    /// Longest scalar, in UTF-8 bytes.
    public static let maximumScalarBytes = 65_536
    /// Most cells a grid may expand to.
    public static let maximumCells = 1_000_000

    /// The deepest flow nesting (`[`, `{`) in YAML text, found without parsing, so the recursive
    /// composer is never handed a pathological document. (Deep block nesting needs a file of
    /// quadratic size, which `maximumFileBytes` already bounds.) Conservative: the larger of a
    /// count that skips quoted scalars and comments as YAML does, and a count that skips nothing.
    static func flowDepth(of text: String) -> Int {
        var careful = 0, naive = 0, deepest = 0
        var quote: UInt8? = nil
        var escaped = false, inComment = false
        var previous: UInt8 = UInt8(ascii: "\n")
        let separators: Set<UInt8> = Set(" \t\n[{,:-?".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "["), UInt8(ascii: "{"): naive += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"): naive = max(0, naive - 1)
            default: break
            }
            defer { previous = byte; deepest = max(deepest, careful, naive) }
            if byte == UInt8(ascii: "\n") { inComment = false }
            if inComment { continue }
            if let q = quote {
                if escaped {
                    escaped = false
                } else if q == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == q {
                    quote = nil
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "#") where previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t") || previous == UInt8(ascii: "\n"):
                inComment = true
            case UInt8(ascii: "\"") where separators.contains(previous), UInt8(ascii: "'") where separators.contains(previous):
                quote = byte
            case UInt8(ascii: "["), UInt8(ascii: "{"): careful += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"): careful = max(0, careful - 1)
            default: break
            }
        }
        return deepest
    }
}
