import BoardLayout
import CSDL2
import Foundation
import Testing

@testable import Displays

/// Lines kept as textures between frames: the same pixels as rendering
/// each line afresh, within the byte budget, least recently drawn first out.
@Suite struct TextTexturesTests {
    let stop = BoardState(phase: .stop(awaitingUnladen: false), vrn: ScreenCatalogue.sampleVRN)

    /// Draws `layout` on a fresh canvas with `texts` (nil: no kept lines).
    func frame(_ layout: ScreenLayout, _ rig: Rig, texts: TextTextures?) throws -> RGBAImage {
        let canvas = try Canvas(context: rig.context, width: layout.size.width, height: layout.size.height)
        try ScreenPainter.paint(layout, on: canvas.renderer, fonts: rig.fonts, texts: texts)
        let image = try canvas.snapshot()
        withSDLLock { texts?.removeAll() }
        return image
    }

    @Test func keptLinesDrawTheSamePixelsAsFreshOnes() throws {
        let rig = try Rig()
        for geometry in TestGeometry.allCases {
            let layout = geometry.layouter.layout(stop, measurer: rig.fonts)
            let fresh = try frame(layout, rig, texts: nil)
            let canvas = try Canvas(
                context: rig.context, width: layout.size.width, height: layout.size.height)
            let texts = TextTextures()
            try ScreenPainter.paint(layout, on: canvas.renderer, fonts: rig.fonts, texts: texts)
            let lines = layout.textBlocks.flatMap(\.lines).filter { !$0.text.isEmpty }.count
            #expect(texts.misses == lines && texts.hits == 0, "\(geometry)")
            // A frame in between, then the same screen again from kept lines.
            try canvas.clear(.white)
            try ScreenPainter.paint(layout, on: canvas.renderer, fonts: rig.fonts, texts: texts)
            #expect(texts.hits == lines, "\(geometry): every line came from a texture")
            #expect(try canvas.snapshot() == fresh, "\(geometry)")
            withSDLLock { texts.removeAll() }
        }
    }

    @Test func theBudgetBoundsWhatIsKeptAndTheLeastRecentGoFirst() throws {
        let rig = try Rig()
        let canvas = try Canvas(context: rig.context, width: 400, height: 100)
        let style = TextStyle(script: .traditionalChinese, weight: .regular, size: 24)
        let font = try rig.fonts.font(for: style)
        let one = try font.size(of: "AB1234")
        // Room for about three lines of that size.
        let texts = TextTextures(budget: one.width * one.height * 4 * 3 + 100)
        func draw(_ text: String) throws {
            _ = try withSDLLock { () throws(DisplayError) -> Rect in
                try texts.draw(
                    .init(text: text, style: style, color: .black),
                    font: { () throws(DisplayError) in try rig.fonts.font(for: style) },
                    at: Point(x: 0, y: 0),
                    on: canvas.renderer)
            }
        }
        for plate in ["AB1234", "CD5678", "EF9012"] { try draw(plate) }
        #expect(texts.count == 3 && texts.bytes <= texts.budget)
        try draw("AB1234")  // now the most recent
        try draw("GH3456")  // pushes out the least recent: CD5678
        #expect(texts.count == 3 && texts.bytes <= texts.budget)
        let misses = texts.misses
        try draw("AB1234")
        #expect(texts.misses == misses, "AB1234 was drawn recently and kept")
        try draw("CD5678")
        #expect(texts.misses == misses + 1, "CD5678 was the least recent and went")
        // A line larger than the whole budget is drawn, not kept.
        let long = String(repeating: "WIDE ", count: 40)
        try draw(long)
        #expect(texts.bytes <= texts.budget)
        withSDLLock { texts.removeAll() }
        #expect(texts.count == 0 && texts.bytes == 0)
    }
}
