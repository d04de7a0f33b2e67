import Testing

@testable import BoardLayout

@Suite struct TextWrapperTests {
    let style = TextStyle(script: .traditionalChinese, weight: .regular, size: 10)
    let measurer = FixedWidthMeasurer()

    func lines(_ text: String, _ width: Int, breakWords: Bool = false) -> [String]? {
        TextWrapper.lines(of: text, in: style, maxWidth: width, measurer: measurer, breakWords: breakWords)
    }

    @Test func englishBreaksBetweenWords() {
        #expect(lines("Go to Customs Examination", 60) == ["Go to", "Customs", "Examination"])
        #expect(lines("Please Stop", 1000) == ["Please Stop"])
    }

    @Test func chineseBreaksBetweenAnyTwoCharacters() {
        #expect(lines("請駛往海關驗貨場接受檢查", 50) == ["請駛往海關", "驗貨場接受", "檢查"])
    }

    @Test func closingPunctuationNeverStartsALine() {
        let wrapped = lines("關員已接聽，請說話", 50)
        #expect(wrapped == ["關員已接", "聽，請說話"])
    }

    @Test func openingPunctuationNeverEndsALine() {
        let wrapped = lines("請即按「空車」按鈕", 40)
        #expect(wrapped == ["請即按", "「空車」", "按鈕"])
    }

    @Test func aNewlineForcesABreak() {
        #expect(lines("A\nB", 1000) == ["A", "B"])
        #expect(lines("", 100) == [])
    }

    @Test func aWordWiderThanTheLineIsRefusedUnlessBreakingIsAllowed() {
        #expect(lines("Examination", 30) == nil)
        #expect(lines("Examination", 30, breakWords: true) == ["Examin", "ation"])
    }

    /// Whatever the width, every line fits and nothing is lost or reordered.
    @Test(arguments: [20, 35, 50, 80, 130, 400])
    func linesFitAndKeepEveryCharacter(width: Int) {
        let texts = [
            BoardText.inspect.traditionalChinese, BoardText.inspect.english,
            BoardText.systemUnavailable.simplifiedChinese,
            BoardText.unladenInvitation.traditionalChinese, BoardText.ccrnExpired.traditionalChinese,
            "請駛往 3 號車位 Bay 3 (left)",
        ]
        for text in texts {
            let wrapped = lines(text, width, breakWords: true) ?? []
            for line in wrapped where line.count > 1 {
                #expect(measurer.width(of: line, in: style) <= width, "\"\(line)\" wider than \(width)")
            }
            #expect(
                wrapped.joined().filter { !$0.isWhitespace } == text.filter { !$0.isWhitespace },
                "\(text) at \(width)")
        }
    }
}
