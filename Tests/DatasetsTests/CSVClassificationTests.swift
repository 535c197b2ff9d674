import Datasets
import Foundation
import Tensors
import Testing

/// `csv` with a categorical `label` column: classes, names, labels and errors by line.
@Suite final class CSVClassificationTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-csv-classes-\(UUID().uuidString)")

    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ text: String) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func textLabelsBecomeNamedClasses() throws {
        // 30 rows: species by row (setosa, versicolor, virginica), features a = row, b = 2·row.
        let species = ["versicolor", "setosa", "virginica"]
        var lines = ["a,species,b"]
        for i in 0..<30 { lines.append("\(i),\(species[i % 3]),\(2 * i)") }
        let path = try write(lines.joined(separator: "\n"))
        let source = CSVSource(path: path, label: "species", validationFraction: 0.2, testFraction: 0.2, standardize: false)
        #expect(source.problems().isEmpty, "\(source.problems())")
        #expect(source.sampleShape == [2] && source.classCount == 3 && source.targetCount == 0)
        #expect(source.classNames == ["setosa", "versicolor", "virginica"], "sorted as text")
        let splits = try source.load()
        #expect(splits.training.count == 18 && splits.validation.count == 6 && splits.test.count == 6)
        for set in [splits.training, splits.validation, splits.test] {
            #expect(set.targets == nil)
            for sample in 0..<set.count {
                let row = Int(set.images.scalars[sample * 2])
                #expect(set.images.scalars[sample * 2 + 1] == Float(2 * row))
                #expect(source.classNames![set.labels[sample]] == species[row % 3])
            }
        }
    }

    @Test func numericLabelsSortAsNumbers() throws {
        let path = try write((["x,grade"] + (0..<20).map { "\($0),\([2, 10, 9][$0 % 3])" }).joined(separator: "\n"))
        let source = CSVSource(path: path, label: "grade")
        #expect(source.classNames == ["2", "9", "10"])
    }

    @Test func problemsNameTheColumnAndLine() throws {
        let path = try write("a,kind\n1,x\n2,\n3,y\n4,x\n5,y\n6,x\n7,y\n8,x\n9,y\n10,x\n")
        #expect(throws: DatasetError.malformedTable(path, line: 3, "missing value in column 'kind'")) {
            try CSVSource(path: path, label: "kind").load()
        }
        #expect(CSVSource(path: path, label: "knd").problems().first == "label names 'knd', which is not a column of \(path) (did you mean 'kind'?)")
        #expect(CSVSource(path: path, targets: ["a"], label: "kind").problems().contains("give targets (regression) or label (classification), not both"))
        #expect(CSVSource(path: path).problems().first == "give targets (columns to predict: regression) or label (a categorical column: classification)")
        let single = try write("a,kind\n" + (0..<10).map { "\($0),same" }.joined(separator: "\n"))
        #expect(CSVSource(path: single, label: "kind").problems() == ["label column 'kind' has 1 distinct value(s); classification needs ≥ 2"])
    }
}
