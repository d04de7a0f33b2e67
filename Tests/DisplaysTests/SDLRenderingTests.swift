import BoardLayout
import Foundation
import Testing

@testable import Displays

// SDL is process-global; SDLContext reference-counts it and serialises every
// call, so these tests may run in parallel with each other and with other suites.
@Suite struct SDLRenderingTests {
    @Test func offscreenDriverInitialises() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        #expect(context.videoDriver == "offscreen")
    }

    @Test func contextsShareOneInitialisation() throws {
        let first = try SDLContext(videoDriver: "offscreen")
        let second = try SDLContext(videoDriver: "offscreen")
        #expect(first.videoDriver == second.videoDriver)
        // Joining without naming a driver takes whatever runs.
        #expect(try SDLContext().videoDriver == "offscreen")
    }

    @Test func secondDriverIsRefusedWhileTheFirstRuns() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        #expect(throws: DisplayError.videoDriverConflict(requested: "dummy", active: context.videoDriver)) {
            try SDLContext(videoDriver: "dummy")
        }
    }

    @Test func cjkFontHasTheGlyphsALaneShows() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        let font = try Font(context: context, pointSize: 32)
        #expect(font.familyName == "Noto Sans CJK TC")
        #expect(font.providesGlyph(for: "關"))
        #expect(font.providesGlyph(for: "A"))
        #expect(!font.providesGlyph(for: "\u{E000}"))
        #expect(font.missingGlyphs(in: "請停車 STOP \u{E000}") == ["\u{E000}"])
        let size = try font.size(of: "關A")
        #expect(size.width > 0 && size.height > 0)
    }

    @Test func missingFontIsReportedWithItsPath() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        let error = #expect(throws: DisplayError.self) {
            try Font(context: context, path: "/nonexistent/font.ttc", pointSize: 20)
        }
        #expect(error?.description.hasPrefix("cannot open font /nonexistent/font.ttc face 3: ") == true)
    }

    @Test func rendersCJKAndLatinTextToPNG() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        let font = try Font(context: context, pointSize: 48)
        let canvas = try Canvas(context: context, width: 240, height: 96)
        try canvas.clear(.black)
        #expect(try canvas.snapshot().countOfPixels(differentFrom: .black) == 0)

        let han = try canvas.draw("關", font: font, color: .white, at: Point(x: 8, y: 8))
        let latin = try canvas.draw("A", font: font, color: .white, at: Point(x: 8 + han.size.width, y: 8))
        let image = try canvas.snapshot()
        #expect(image.countOfPixels(differentFrom: .black) > 200)
        #expect(inked(image, in: han) > 100, "no ink where 關 was drawn")
        #expect(inked(image, in: latin) > 30, "no ink where A was drawn")
        #expect(image[Point(x: 239, y: 95)] == .black, "text drew outside its area")

        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lanekiosk-text-\(UUID()).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try canvas.writePNG(to: url.path)
        let decoded = try DecodedPNG(Array(try Data(contentsOf: url)))
        #expect(decoded.width == 240 && decoded.height == 96)
        #expect(decoded.pixels == image.pixels)
    }

    @Test func fillBlendsAndClearReplaces() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        let canvas = try Canvas(context: context, width: 4, height: 4)
        try canvas.clear(RGBAColor(red: 10, green: 20, blue: 30, alpha: 255))
        try canvas.fill(Rect(x: 1, y: 1, width: 2, height: 2), with: RGBAColor(red: 200, green: 0, blue: 0))
        let image = try canvas.snapshot()
        #expect(image[Point(x: 0, y: 0)] == RGBAColor(red: 10, green: 20, blue: 30))
        #expect(image[Point(x: 1, y: 1)] == RGBAColor(red: 200, green: 0, blue: 0))
        #expect(image[Point(x: 3, y: 3)] == RGBAColor(red: 10, green: 20, blue: 30))
    }

    @Test func invalidCanvasSizeIsRefused() throws {
        let context = try SDLContext(videoDriver: "offscreen")
        #expect(throws: DisplayError.invalidSize(width: 0, height: 10)) {
            try Canvas(context: context, width: 0, height: 10)
        }
    }

    private func inked(_ image: RGBAImage, in area: Rect) -> Int {
        var count = 0
        for y in max(0, area.origin.y)..<min(image.height, area.origin.y + area.size.height) {
            for x in max(0, area.origin.x)..<min(image.width, area.origin.x + area.size.width)
            where image[Point(x: x, y: y)] != .black {
                count += 1
            }
        }
        return count
    }
}
