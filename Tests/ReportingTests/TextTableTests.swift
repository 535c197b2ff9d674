import Reporting
import Testing

@Suite struct TextTableTests {
    @Test func rendersAlignedColumns() {
        var table = TextTable(headers: ["model", "evaluation", "accuracy"], alignments: [.left, .left, .right])
        table.append(["mlp", "clean", TextTable.number(0.84251)])
        table.append(["cnn", "fgsm(epsilon=0.1)", TextTable.number(0.2)])
        let expected = """
            model  evaluation         accuracy
            -----  -----------------  --------
            mlp    clean                0.8425
            cnn    fgsm(epsilon=0.1)    0.2000

            """
        #expect(table.render() == expected)
    }

    @Test func numbersHaveFixedDecimals() {
        #expect(TextTable.number(1) == "1.0000")
        #expect(TextTable.number(0.123456, decimals: 2) == "0.12")
        #expect(TextTable.number(2.6, decimals: 0) == "3")
        #expect(TextTable.number(-0.00004) == "-0.0000")
        #expect(TextTable.number(.nan) == "nan")
    }
}
