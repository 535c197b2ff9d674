/// Key-path text and key-name conversion shared by the decoder and error messages.
enum KeyPathText {
    /// `attacks[1].epsilon` from coding keys (integer keys print as subscripts).
    static func render(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + yamlName(key.stringValue)
            }
        }
        return text
    }

    /// Swift property names are camelCase; experiment files use snake_case (`outFeatures` → `out_features`).
    static func yamlName(_ swiftName: String) -> String {
        guard swiftName.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return swiftName }
        var out = ""
        for character in swiftName {
            if character.isUppercase {
                if !out.isEmpty { out.append("_") }
                out.append(contentsOf: character.lowercased())
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// A coding key for array indices and synthetic path steps.
struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ index: Int) {
        stringValue = "Index \(index)"
        intValue = index
    }
    init?(stringValue: String) {
        self.stringValue = stringValue
        intValue = nil
    }
    init?(intValue: Int) { self.init(intValue) }
}

/// A coding key with a fixed name (for paths into components).
struct NameKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
