import Foundation
import Reporting

/// Writes a report's files into a folder: `report.html` (self-contained), `report.md`,
/// `tables/<id>.tex` and `figures/<id>.svg` (and `figures/<id>.pdf` when `rsvg-convert` is
/// installed). Each file is written under a temporary name and renamed, so an interrupted
/// report leaves the previous files whole; nothing else in the folder is touched.
public enum ReportFiles {
    public struct Written: Sendable {
        public var html: String
        public var markdown: String
        public var tables: [String]
        public var figures: [String]
        /// The figures converted to PDF (none without `rsvg-convert`).
        public var pdfs: [String]
        /// PDF conversions that failed (the SVG files are there).
        public var warnings: [String]
    }

    public static func write(_ report: Report, to folder: String) throws -> Written {
        let manager = FileManager.default
        try manager.createDirectory(atPath: "\(folder)/tables", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: "\(folder)/figures", withIntermediateDirectories: true)
        var written = Written(html: "\(folder)/report.html", markdown: "\(folder)/report.md", tables: [], figures: [], pdfs: [], warnings: [])
        try ReportWriter.html(report).write(toFile: written.html, atomically: true, encoding: .utf8)
        try ReportWriter.markdown(report).write(toFile: written.markdown, atomically: true, encoding: .utf8)
        for table in report.tables {
            let path = "\(folder)/tables/\(table.id).tex"
            try table.latex().write(toFile: path, atomically: true, encoding: .utf8)
            written.tables.append(path)
        }
        let converter = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"].first(where: manager.isExecutableFile(atPath:))
        for figure in report.figures {
            let path = "\(folder)/figures/\(figure.id).svg"
            try figure.svg.write(toFile: path, atomically: true, encoding: .utf8)
            written.figures.append(path)
            if let converter {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: converter)
                let pdf = "\(folder)/figures/\(figure.id).pdf"
                process.arguments = ["--format=pdf", "--output=\(pdf)", path]
                do {
                    try process.run()
                    process.waitUntilExit()
                    if process.terminationStatus == 0 {
                        written.pdfs.append(pdf)
                    } else {
                        written.warnings.append("\(path): rsvg-convert exited with status \(process.terminationStatus); no PDF")
                    }
                } catch {
                    written.warnings.append("\(path): cannot run \(converter): \(error)")
                }
            }
        }
        return written
    }
}
