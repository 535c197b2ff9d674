/// Why an ONNX file cannot be imported; every message names the file, and the node where there
/// is one.
public struct OnnxError: Error, CustomStringConvertible, Equatable {
    /// The model file.
    public var file: String
    /// What is wrong, one line.
    public var message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}

/// An op, attribute or data type the importer does not support, found while reading a node.
struct Unsupported: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
