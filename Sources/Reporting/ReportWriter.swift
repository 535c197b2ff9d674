/// Renders a `Report`: one self-contained HTML page (inline CSS and SVG; no script, font,
/// stylesheet or image is fetched from anywhere) and a Markdown file whose figures are the SVG
/// files `figures/<id>.svg` beside it.
public enum ReportWriter {
    public static func html(_ report: Report) -> String {
        let e = SVGWriter.escape
        var lines = [
            "<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<title>\(e(report.title))</title>", "<style>\(style)</style>", "</head>", "<body>",
            "<h1>\(e(report.title))</h1>",
        ]
        let contents = report.sections.enumerated().map { index, section in
            "<li><a href=\"#section-\(index + 1)\">\(e(section.title))</a></li>"
        }
        lines.append("<nav><ol>" + contents.joined() + "</ol></nav>")
        for (index, section) in report.sections.enumerated() {
            lines.append("<section id=\"section-\(index + 1)\">")
            lines.append("<h2>\(e(section.title))</h2>")
            for block in section.blocks {
                switch block {
                case .paragraph(let text): lines.append("<p>\(e(text))</p>")
                case .list(let items): lines.append("<ul>" + items.map { "<li>\(e($0))</li>" }.joined() + "</ul>")
                case .table(let table): lines.append(table.html())
                case .figure(let figure):
                    lines.append("<figure id=\"figure-\(e(figure.id))\">")
                    lines.append(figure.svg)
                    lines.append("<figcaption>\(e(figure.caption))</figcaption>")
                    lines.append("</figure>")
                case .definitions(let items):
                    lines.append("<dl>" + items.map { "<dt>\(e($0.term))</dt><dd>\(e($0.definition))</dd>" }.joined() + "</dl>")
                case .code(let text): lines.append("<pre>\(e(text))</pre>")
                }
            }
            lines.append("</section>")
        }
        lines += ["</body>", "</html>"]
        return lines.joined(separator: "\n") + "\n"
    }

    public static func markdown(_ report: Report) -> String {
        var lines = ["# \(report.title)", ""]
        for section in report.sections {
            lines += ["## \(section.title)", ""]
            for block in section.blocks {
                switch block {
                case .paragraph(let text): lines += [text, ""]
                case .list(let items): lines += items.map { "- \($0)" } + [""]
                case .table(let table): lines += [table.markdown()]
                case .figure(let figure): lines += ["![\(figure.caption)](figures/\(figure.id).svg)", "", "*\(figure.caption)*", ""]
                case .definitions(let items): lines += items.map { "- **\($0.term)**: \($0.definition)" } + [""]
                case .code(let text):
                    let fence = text.contains("```") ? "~~~~" : "```"
                    lines += [fence, text.hasSuffix("\n") ? String(text.dropLast()) : text, fence, ""]
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Print-friendly styling: serif body, sans-serif tables, figures scale down to the page.
    static let style = """
        body{font-family:Georgia,'Times New Roman',serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}\
        h1,h2{font-family:sans-serif}nav ol{columns:2}table{border-collapse:collapse;margin:1em 0;font-family:sans-serif;font-size:13px;display:block;overflow-x:auto;max-width:100%}\
        caption{caption-side:top;text-align:left;font-weight:bold;padding:.3em 0}thead th{border-top:2px solid #000;border-bottom:1px solid #000}\
        tbody tr:last-child td{border-bottom:2px solid #000}th,td{padding:.2em .7em;text-align:left;vertical-align:top}\
        .n{text-align:right;font-variant-numeric:tabular-nums}.note{font-size:13px;color:#333}\
        figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}figcaption{font-size:14px;color:#333}\
        pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:12px}dt{font-weight:bold;font-family:sans-serif}dd{margin:0 0 .6em 1.5em}\
        @media print{nav{display:none}figure,table{break-inside:avoid}}
        """
}
