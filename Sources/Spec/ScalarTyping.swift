import Foundation

/// Typing of plain (unquoted) YAML scalars, following the YAML 1.1 core forms that
/// experiment files use:
/// - null: `~`, `null`, `Null`, `NULL`, or nothing;
/// - booleans: `true/false`, `yes/no`, `on/off` (lowercase, capitalised or uppercase), `y/n`;
/// - integers: decimal with optional sign and `_` separators, `0x` hexadecimal, `0o` octal;
/// - numbers: decimal with optional fraction and exponent (`1e-3`, `.5`), `.inf`, `-.inf`, `.nan`.
/// Quoted scalars are always strings.
enum ScalarTyping {
    static let trueWords: Set<String> = ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"]
    static let falseWords: Set<String> = ["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"]

    static func bool(_ text: String) -> Bool? {
        if trueWords.contains(text) { return true }
        if falseWords.contains(text) { return false }
        return nil
    }

    static func integer(_ text: String) -> Int? {
        var body = Substring(text)
        var negative = false
        if let sign = body.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        var radix = 10
        if body.hasPrefix("0x") { radix = 16; body = body.dropFirst(2) } else if body.hasPrefix("0o") { radix = 8; body = body.dropFirst(2) }
        let digits = body.filter { $0 != "_" }
        guard !digits.isEmpty, body.first != "_", let magnitude = Int(digits, radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }

    static func number(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        if let int = integer(text) { return Double(int) }
        // [-+]? (digits [. digits?] | . digits) ([eE] [-+]? digits)?
        let bytes = Array(text.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < bytes.count, (bytes[i] >= 48 && bytes[i] <= 57) || (bytes[i] == 95 && i > start) { i += 1 }
            return i - start
        }
        if i < bytes.count, bytes[i] == 43 || bytes[i] == 45 { i += 1 }
        let whole = digits()
        var fraction = 0
        if i < bytes.count, bytes[i] == 46 {
            i += 1
            fraction = digits()
        }
        guard whole + fraction > 0 else { return nil }
        if i < bytes.count, bytes[i] == 101 || bytes[i] == 69 {
            i += 1
            if i < bytes.count, bytes[i] == 43 || bytes[i] == 45 { i += 1 }
            guard digits() > 0 else { return nil }
        }
        guard i == bytes.count else { return nil }
        return Double(text.replacingOccurrences(of: "_", with: ""))
    }
}
