import Spec
import Foundation
import Tensors

/// A tabular dataset from a CSV file (`type: csv`): a header line of column names, then one
/// sample per line; the `targets` columns are predicted from the `features` columns
/// (regression), or the categorical `label` column is (classification: the column's distinct
/// values, sorted as numbers where every one is a number and as text otherwise, are the classes
/// and their names).
///
/// The rows are split by a permutation seeded with `split_seed`: the first
/// `⌊validation_fraction · N⌋` permuted rows form the validation set, the next
/// `⌊test_fraction · N⌋` the test set, the rest the training set. With `standardize` (the
/// default) every feature is shifted and scaled by the training set's mean and standard
/// deviation (constant features by 1), so no statistic of the validation or test rows leaks into
/// training; targets keep their units, so errors are reported in them.
public struct CSVSource: FileBackedSource, Equatable {
    public static let kind = "csv"
    public static let defaults = [
        "targets": "none: label is the target", "label": "none: targets are", "features": "every column that is not a target or the label",
        "delimiter": "a comma", "validation_fraction": "0.1", "test_fraction": "0.2", "split_seed": "0",
        "standardize": "true",
    ]
    public static let summary =
        "A tabular dataset from a CSV file with a header line: regression targets or a categorical label; seeded validation and test split."
    /// The file; a relative path is relative to the experiment file.
    public var path: String
    /// The columns to predict in regression (one or more).
    public var targets: [String]?
    /// The categorical column to predict in classification.
    public var label: String?
    /// The input columns (default: every column that is not a target).
    public var features: [String]?
    /// The field separator, one character (default `,`).
    public var delimiter: String?
    /// Fractions of the rows held out for validation and test, each in (0, 1), together < 1
    /// (defaults 0.1 and 0.2).
    public var validationFraction: Double?
    public var testFraction: Double?
    /// Seed of the split (default 0).
    public var splitSeed: UInt64?
    /// Standardise the features with the training set's statistics (default true).
    public var standardize: Bool?

    public init(
        path: String, targets: [String]? = nil, label: String? = nil, features: [String]? = nil, delimiter: String? = nil, validationFraction: Double? = nil,
        testFraction: Double? = nil, splitSeed: UInt64? = nil, standardize: Bool? = nil
    ) {
        self.path = path
        self.targets = targets
        self.label = label
        self.features = features
        self.delimiter = delimiter
        self.validationFraction = validationFraction
        self.testFraction = testFraction
        self.splitSeed = splitSeed
        self.standardize = standardize
    }

    var table: DelimitedTable { DelimitedTable(path: path, delimiter: delimiter?.first ?? ",") }

    /// The feature columns: as listed, or every header column that is not a target.
    func featureColumns() throws(DatasetError) -> [String] {
        if let features { return features }
        return try table.header().filter { !targetColumns.contains($0) && $0 != label }
    }

    public func resolvingPaths(relativeTo directory: String) -> CSVSource {
        guard !path.hasPrefix("/") else { return self }
        var copy = self
        copy.path = URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
        return copy
    }

    public var sampleShape: [Int] { [(try? featureColumns().count) ?? 0] }
    public var targetCount: Int { label == nil ? targetColumns.count : 0 }
    /// The regression targets' columns (none for classification).
    var targetColumns: [String] { targets ?? [] }

    /// The classes of the label column, in order, read once per file version.
    func labelClasses() throws(DatasetError) -> [String] {
        guard let label else { return [] }
        let distinct = Array(try table.distinct(column: label))
        if distinct.allSatisfy({ Double($0) != nil }) { return distinct.sorted { Double($0)! < Double($1)! } }
        return distinct.sorted()
    }

    public var classCount: Int { label == nil ? 0 : ((try? labelClasses().count) ?? 0) }
    public var classNames: [String]? { label == nil ? nil : try? labelClasses() }
    public var normalization: (mean: [Float], std: [Float])? { nil }

    public var sampleCounts: (training: Int, validation: Int, test: Int) {
        let rows = (try? table.rowCount()) ?? 0
        let (validation, test) = heldOut(rows)
        return (rows - validation - test, validation, test)
    }

    func heldOut(_ rows: Int) -> (validation: Int, test: Int) {
        (Int((validationFraction ?? 0.1) * Double(rows)), Int((testFraction ?? 0.2) * Double(rows)))
    }

    public func problems() -> [String] {
        var found: [String] = []
        if let delimiter, delimiter.count != 1 { found.append("delimiter must be one character, got '\(delimiter)'") }
        let fractions = [("validation_fraction", validationFraction), ("test_fraction", testFraction)]
        for (name, value) in fractions {
            if let value, !(value > 0 && value < 1) { found.append("\(name) must be in (0, 1), got \(value)") }
        }
        if (validationFraction ?? 0.1) + (testFraction ?? 0.2) >= 1 {
            found.append("validation_fraction + test_fraction must be < 1, so rows are left for training")
        }
        if label == nil, targetColumns.isEmpty { found.append("give targets (columns to predict: regression) or label (a categorical column: classification)") }
        if label != nil, targets != nil { found.append("give targets (regression) or label (classification), not both") }
        let header: [String]
        do { header = try table.header() } catch {
            return found + ["path cannot be used: \(error)"]
        }
        if let label, !header.contains(label) {
            found.append("label names '\(label)', which is not a column of \(path)\(Self.hint(label, header))")
        } else if label != nil {
            do {
                let classes = try labelClasses()
                if classes.count < 2 { found.append("label column '\(label!)' has \(classes.count) distinct value(s); classification needs ≥ 2") }
            } catch { found.append("label column cannot be read: \(error)") }
        }
        if let label, features?.contains(label) == true { found.append("features lists '\(label)', which is the label") }
        for column in targetColumns where !header.contains(column) {
            found.append("targets names '\(column)', which is not a column of \(path)\(Self.hint(column, header))")
        }
        for column in features ?? [] where !header.contains(column) {
            found.append("features names '\(column)', which is not a column of \(path)\(Self.hint(column, header))")
        }
        if let overlap = features?.first(where: targetColumns.contains) { found.append("features lists '\(overlap)', which is also a target") }
        if (try? featureColumns())?.isEmpty ?? false { found.append("features would be empty: every column is a target") }
        if let rows = try? table.rowCount() {
            let (validation, test) = heldOut(rows)
            if validation < 1 || test < 1 || rows - validation - test < 1 {
                found.append(
                    "path has \(rows) data rows, which leave \(rows - validation - test) for training, \(validation) for validation and \(test) for test; each needs ≥ 1"
                )
            }
        }
        return found
    }

    static func hint(_ column: String, _ header: [String]) -> String {
        let close = header.min { levenshtein($0, column) < levenshtein($1, column) }
        return close.map { levenshtein($0, column) <= max(2, column.count / 3) ? " (did you mean '\($0)'?)" : "" } ?? ""
    }

    public func verify() throws(DatasetError) {
        _ = try table.header()
    }

    public func load() throws(DatasetError) -> DatasetSplits {
        let featureNames = try featureColumns()
        let (x, rows) = try table.numbers(columns: featureNames)
        let inputs = Tensor(shape: [rows, featureNames.count], scalars: x)
        var all: ImageDataset
        if let label {
            let classes = try labelClasses()
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            all = ImageDataset(images: inputs, labels: try table.strings(column: label).values.map { index[$0]! }, classCount: classes.count)
        } else {
            let (y, _) = try table.numbers(columns: targetColumns)
            all = ImageDataset(inputs: inputs, targets: Tensor(shape: [rows, targetColumns.count], scalars: y))
        }
        let (validationCount, testCount) = heldOut(rows)
        guard validationCount >= 1, testCount >= 1, rows - validationCount - testCount >= 1 else {
            throw .invalidSplit("\(path) has \(rows) rows, too few for training, validation and test sets")
        }
        var rng = RandomSource(seed: splitSeed ?? 0)
        let order = rng.permutation(rows)
        let training = Array(order[(validationCount + testCount)...])
        if standardize ?? true { all.images = Self.standardized(all.images, statisticsOf: training) }
        return DatasetSplits(
            training: all.subset(training), validation: all.subset(Array(order[..<validationCount])),
            test: all.subset(Array(order[validationCount..<(validationCount + testCount)])))
    }

    /// `(x − mean) / std` per column, with the mean and (population) standard deviation of `rows`.
    static func standardized(_ x: Tensor, statisticsOf rows: [Int]) -> Tensor {
        let columns = x.shape[1]
        var result = x
        for c in 0..<columns {
            let values = rows.map { Double(x.scalars[$0 * columns + c]) }
            let mean = values.reduce(0, +) / Double(values.count)
            let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
            let scale = std > 0 ? std : 1
            for r in 0..<x.shape[0] { result.scalars[r * columns + c] = Float((Double(x.scalars[r * columns + c]) - mean) / scale) }
        }
        return result
    }
}

/// Edit distance, for did-you-mean hints on column names.
func levenshtein(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    var previous = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}
