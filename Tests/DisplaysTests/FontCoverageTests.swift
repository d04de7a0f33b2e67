import BoardLayout
import Testing

@testable import Displays

/// The font is part of what ships: a glyph it lacks would be an empty box in
/// front of a driver.
@Suite struct FontCoverageTests {
    @Test func everyShippedStringHasAllItsGlyphsInBothWeights() throws {
        let rig = try Rig()
        for (text, script) in BoardText.allShippedStrings {
            let missing = rig.fonts.missingGlyphs(in: text, script: script)
            #expect(
                missing.isEmpty,
                "\(script) font lacks \(missing.map { "U+" + String($0.value, radix: 16, uppercase: true) }) in \"\(text)\""
            )
        }
    }

    /// The check above can fail: a private-use character is in no face.
    @Test func aMissingGlyphIsFound() throws {
        let rig = try Rig()
        #expect(rig.fonts.missingGlyphs(in: "請\u{E000}停", script: .traditionalChinese) == ["\u{E000}"])
        #expect(rig.fonts.missingGlyphs(in: "请停车", script: .simplifiedChinese).isEmpty)
    }

    /// Debian 12's fonts-noto-cjk: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK, in both weights.
    @Test(arguments: [(2, "Noto Sans CJK SC"), (3, "Noto Sans CJK TC"), (4, "Noto Sans CJK HK")])
    func faceIndicesNameTheScripts(index: Int, family: String) throws {
        let context = try SDLContext(videoDriver: "offscreen")
        for path in [Font.defaultPath, Font.defaultBoldPath] {
            let font = try Font(context: context, path: path, faceIndex: index, pointSize: 16)
            #expect(font.familyName == family, "\(path) face \(index)")
        }
        #expect(Font.traditionalChineseFaceIndex == 3 && Font.simplifiedChineseFaceIndex == 2)
    }

    /// Traditional and Simplified faces draw the same character differently
    /// where the standards differ (骨 is the textbook case).
    @Test func theTwoScriptsHaveDifferentGlyphForms() throws {
        let rig = try Rig()
        let canvas = try Canvas(context: rig.context, width: 64, height: 64)
        func draw(_ script: FontScript) throws -> RGBAImage {
            try canvas.clear(.black)
            let font = try rig.fonts.font(for: TextStyle(script: script, weight: .regular, size: 48))
            try canvas.draw("骨", font: font, color: .white, at: Point(x: 4, y: 0))
            return try canvas.snapshot()
        }
        let traditional = try draw(.traditionalChinese)
        let simplified = try draw(.simplifiedChinese)
        #expect(traditional != simplified)
    }

    @Test func anOfficersFreeTextLosesOnlyTheCharactersTheFontLacks() throws {
        let rig = try Rig()
        #expect(rig.fonts.displayable("Bay \u{E000}3 請", script: .traditionalChinese) == "Bay ?3 請")
        #expect(rig.fonts.displayable("Bay 3", script: .simplifiedChinese) == "Bay 3")
    }

    @Test func aWrongFontPathIsNamedAtStartUp() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        let error = #expect(throws: DisplayError.self) {
            try FontSet(context: context, configuration: FontConfiguration(boldPath: "/nonexistent/bold.ttc"))
        }
        #expect(error?.description.contains("/nonexistent/bold.ttc") == true)
    }
}

/// `laned --check`'s font check: every face opened, every board text's glyphs there.
@Suite struct DisplayCheckTests {
    static let latinOnly = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

    @Test func theShippedFontPasses() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        #expect(DisplayCheck.fonts(FontConfiguration(), context: context) == [])
    }

    /// Face 0 of a Latin-only font opens, and lacks the Chinese of both scripts.
    @Test func aLatinOnlyFaceIsFoundLackingTheBoardsChinese() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        let fonts = FontConfiguration(
            regularPath: Self.latinOnly, boldPath: nil, traditionalChineseFaceIndex: 0,
            simplifiedChineseFaceIndex: 0)
        let problems = DisplayCheck.fonts(fonts, context: context)
        #expect(problems.count == 2, "\(problems)")
        #expect(problems.allSatisfy { $0.part == .font })
        #expect(problems.first?.message.hasPrefix("\(Self.latinOnly) face 0 lacks ") == true, "\(problems)")
        #expect(problems.first?.message.contains("in traditionalChinese: 歡") == true, "\(problems)")
        #expect(problems.last?.message.contains("in simplifiedChinese: 欢") == true, "\(problems)")
    }

    @Test func aFaceTheFileDoesNotHaveIsNamed() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        let problems = DisplayCheck.fonts(
            FontConfiguration(regularPath: Self.latinOnly, boldPath: nil), context: context)
        #expect(problems.map(\.message).first?.hasPrefix("cannot open font \(Self.latinOnly) face 3") == true)
    }
}
