import Foundation
import Synchronization

/// A delimited text file (CSV) with a header line of column names and one sample per line;
/// fields may be double-quoted (`""` inside quotes is a quote). Blank lines are skipped.
struct DelimitedTable {
    var path: String
    var delimiter: Character

    /// The lines of the file with their 1-based line numbers, blank lines left out.
    func lines() throws(DatasetError) -> [(number: Int, text: Substring)] {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingTable(path) }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw .unreadable(path, error.localizedDescription) }
        // "\r\n" is one Character in Swift, and a newline: split on newline characters.
        return text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().compactMap { index, line in
            line.allSatisfy(\.isWhitespace) ? nil : (index + 1, line)
        }
    }

    /// The column names of the header line.
    func header() throws(DatasetError) -> [String] { try outline().header }

    /// Data rows (lines after the header).
    func rowCount() throws(DatasetError) -> Int { try outline().rows }

    /// The header and the number of data rows, read once per file version: the catalog asks for
    /// the sample shape and counts of every cell of a grid, and each would otherwise read the file.
    func outline() throws(DatasetError) -> (header: [String], rows: Int) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let version = "\(path)|\(delimiter)|\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)|\((attributes?[.size] as? Int) ?? -1)"
        if let known = Self.outlines.withLock({ $0[version] }) { return known }
        let all = try lines()
        guard let first = all.first else { throw .malformedTable(path, line: 1, "the file is empty; it needs a header line of column names") }
        let outline = (header: try fields(first.text, line: first.number), rows: all.count - 1)
        Self.outlines.withLock { $0[version] = outline }
        return outline
    }

    private static let outlines = Mutex<[String: (header: [String], rows: Int)]>([:])

    /// The distinct values of `column`, read once per file version (as `outline`).
    func distinct(column: String) throws(DatasetError) -> Set<String> {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let version =
            "\(path)|\(delimiter)|\(column)|\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)|\((attributes?[.size] as? Int) ?? -1)"
        if let known = Self.distinctValues.withLock({ $0[version] }) { return known }
        let values = Set(try strings(column: column).values)
        Self.distinctValues.withLock { $0[version] = values }
        return values
    }

    private static let distinctValues = Mutex<[String: Set<String>]>([:])

    /// The values of `columns` in every data row, row-major `[rows, columns.count]`. Every cell
    /// must be a finite number; the error names the line and the column.
    func numbers(columns: [String]) throws(DatasetError) -> (values: [Float], rows: Int) {
        let all = try lines()
        guard let head = all.first else { throw .malformedTable(path, line: 1, "the file is empty; it needs a header line of column names") }
        let names = try fields(head.text, line: head.number)
        var indices: [Int] = []
        for column in columns {
            guard let index = names.firstIndex(of: column) else {
                throw .malformedTable(path, line: head.number, "no column '\(column)' in the header")
            }
            indices.append(index)
        }
        var values: [Float] = []
        values.reserveCapacity((all.count - 1) * columns.count)
        for (number, text) in all.dropFirst() {
            let row = try fields(text, line: number)
            guard row.count == names.count else {
                throw .malformedTable(path, line: number, "\(row.count) fields, but the header names \(names.count) columns")
            }
            for (column, index) in zip(columns, indices) {
                let cell = row[index].trimmingCharacters(in: .whitespaces)
                guard let value = Float(cell), value.isFinite else {
                    throw .malformedTable(
                        path, line: number,
                        cell.isEmpty || ["na", "nan", "null"].contains(cell.lowercased())
                            ? "missing value in column '\(column)'" : "column '\(column)': '\(cell)' is not a finite number")
                }
                values.append(value)
            }
        }
        return (values, all.count - 1)
    }

    /// The text of `column` in every data row; an empty or missing-value cell is an error naming
    /// its line.
    func strings(column: String) throws(DatasetError) -> (values: [String], rows: Int) {
        let all = try lines()
        guard let head = all.first else { throw .malformedTable(path, line: 1, "the file is empty; it needs a header line of column names") }
        let names = try fields(head.text, line: head.number)
        guard let index = names.firstIndex(of: column) else { throw .malformedTable(path, line: head.number, "no column '\(column)' in the header") }
        var values: [String] = []
        for (number, text) in all.dropFirst() {
            let row = try fields(text, line: number)
            guard row.count == names.count else {
                throw .malformedTable(path, line: number, "\(row.count) fields, but the header names \(names.count) columns")
            }
            let cell = row[index]
            guard !cell.isEmpty, !["na", "nan", "null"].contains(cell.lowercased()) else {
                throw .malformedTable(path, line: number, "missing value in column '\(column)'")
            }
            values.append(cell)
        }
        return (values, all.count - 1)
    }

    /// The fields of one line.
    func fields(_ line: Substring, line number: Int) throws(DatasetError) -> [String] {
        var result: [String] = [], field = "", quoted = false, atFieldStart = true
        var characters = line.makeIterator()
        while let c = characters.next() {
            if quoted {
                if c == "\"" {
                    // A quote ends the field unless it is doubled.
                    var lookahead = characters
                    if lookahead.next() == "\"" { field.append("\""); characters = lookahead } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == delimiter {
                result.append(field)
                field = ""
                atFieldStart = true
                continue
            } else if c == "\"" && atFieldStart && field.allSatisfy(\.isWhitespace) {
                quoted = true
                field = ""
            } else {
                field.append(c)
            }
            atFieldStart = false
        }
        if quoted { throw .malformedTable(path, line: number, "a quoted field is not closed") }
        result.append(field)
        return result.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
