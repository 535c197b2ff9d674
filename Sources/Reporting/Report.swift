/// A report as a document: sections of blocks (paragraphs, tables, figures, definitions,
/// code), rendered to a self-contained HTML page and to Markdown by `ReportWriter`.
public struct Report: Sendable {
    public var title: String
    public var sections: [Section] = []

    public struct Figure: Sendable {
        /// The file name without extension (`figures/<id>.svg`) and HTML anchor.
        public var id: String
        public var caption: String
        public var svg: String

        public init(id: String, caption: String, svg: String) {
            self.id = id
            self.caption = caption
            self.svg = svg
        }
    }

    public enum Block: Sendable {
        case paragraph(String)
        case list([String])
        case table(ReportTable)
        case figure(Figure)
        /// Terms and their definitions.
        case definitions([(term: String, definition: String)])
        /// Preformatted text (commands, the experiment file).
        case code(String)
    }

    public struct Section: Sendable {
        public var title: String
        public var blocks: [Block]

        public init(title: String, blocks: [Block]) {
            self.title = title
            self.blocks = blocks
        }
    }

    public init(title: String) {
        self.title = title
    }

    public var tables: [ReportTable] {
        sections.flatMap(\.blocks).compactMap { if case .table(let table) = $0 { table } else { nil } }
    }

    public var figures: [Figure] {
        sections.flatMap(\.blocks).compactMap { if case .figure(let figure) = $0 { figure } else { nil } }
    }
}
