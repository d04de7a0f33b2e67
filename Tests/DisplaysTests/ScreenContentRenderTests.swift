import BoardLayout
import Testing

@testable import Displays

/// Checks that need no golden: the instruction's colour and pictogram are on
/// the board, every text box holds drawn text, and the instructions can be
/// told apart without colour.
@Suite struct ScreenContentRenderTests {
    @Test(arguments: TestGeometry.allCases)
    func instructionColourPictogramAndTextAreDrawn(geometry: TestGeometry) throws {
        let rig = try Rig()
        let renderer = try rig.renderer(geometry)
        for screen in ScreenCatalogue.screens where screen.boards.contains(geometry.board) {
            for language in geometry.languages {
                try renderer.show(screen.state(in: language))
                let image = try #require(try renderer.snapshot())
                let layout = try #require(renderer.layout)
                let label = "\(geometry) \(screen.name) \(language.rawValue)"

                // The instruction's colour: the AIOP's panel is filled with it;
                // the XDB's frame is drawn in it all round.
                let region = layout.instructionRegion
                let toned = image.count(in: region) { $0.isClose(to: layout.instructionColor) }
                let share = Double(toned) / Double(region.size.width * region.size.height)
                #expect(
                    share > (geometry.board == .aiop ? 0.4 : 0.05),
                    "\(label): instruction colour covers \(share)")
                if geometry.board == .xdb {
                    let corner = Rect(x: 0, y: 0, width: 2, height: region.size.height)
                    #expect(
                        image.count(in: corner) { $0.isClose(to: layout.instructionColor) } == 2
                            * region.size.height)
                }

                // The pictogram: a shape of its primary colour that does not fill its frame.
                let pictogram = layout.instructionPictogram
                let frameArea = pictogram.frame.size.width * pictogram.frame.size.height
                let inked = image.count(in: pictogram.frame) { $0.isClose(to: pictogram.primary) }
                #expect(
                    frameArea > 0 && inked > frameArea / 10 && inked < frameArea * 9 / 10,
                    "\(label): pictogram \(pictogram.pictogram) covers \(inked) of \(frameArea) pixels")

                // Text: every box has pixels of its text colour, as many as a
                // few strokes per line need at least.
                for block in layout.textBlocks {
                    let ink = image.count(in: block.box) { $0.isClose(to: block.color, tolerance: 24) }
                    let needed = block.lines.count * block.style.size * 2
                    #expect(
                        ink >= needed,
                        "\(label): \(block.role) box holds \(ink) text pixels, expected \(needed)")
                }
            }
        }
    }

    /// Never by colour alone: drawn in one colour, as a single-colour LED
    /// board shows them, the instructions' pictograms differ in shape.
    @Test func instructionPictogramsDifferInShapeAlone() throws {
        let rig = try Rig()
        let canvas = try Canvas(context: rig.context, width: 96, height: 96)
        let pictograms: [Pictogram] = [
            .laneOpen, .laneClosed, .stop, .tick, .toCompound(.right), .dropManifest,
        ]
        var masks: [[Bool]] = []
        for pictogram in pictograms {
            try canvas.clear(.black)
            try canvas.draw(
                PictogramPlacement(
                    pictogram: pictogram, frame: Rect(x: 0, y: 0, width: 96, height: 96), primary: .white,
                    secondary: .black))
            masks.append(try canvas.snapshot().pixelsLit)
        }
        for first in masks.indices {
            for second in masks.indices where second > first {
                let differing = zip(masks[first], masks[second]).filter { $0 != $1 }.count
                #expect(
                    differing > 96 * 96 / 8,
                    "\(pictograms[first]) and \(pictograms[second]) differ in only \(differing) pixels")
            }
        }
    }

    @Test func compoundArrowPointsTheConfiguredWay() throws {
        let rig = try Rig()
        let canvas = try Canvas(context: rig.context, width: 64, height: 64)
        func litColumns(_ side: CompoundSide) throws -> (left: Int, right: Int) {
            try canvas.clear(.black)
            try canvas.draw(
                PictogramPlacement(
                    pictogram: .toCompound(side), frame: Rect(x: 0, y: 0, width: 64, height: 64),
                    primary: .white,
                    secondary: .black))
            let image = try canvas.snapshot()
            return (
                image.count(in: Rect(x: 0, y: 0, width: 8, height: 64)) { $0 == .white },
                image.count(in: Rect(x: 56, y: 0, width: 8, height: 64)) { $0 == .white }
            )
        }
        // Only the arrow's tip reaches the outermost eighth of the frame.
        let right = try litColumns(.right)
        let left = try litColumns(.left)
        #expect(right.right > 0 && right.left == 0)
        #expect(left.left > 0 && left.right == 0)
    }
}

extension RGBAImage {
    /// Which pixels are lit (not black), row by row.
    fileprivate var pixelsLit: [Bool] {
        stride(from: 0, to: pixels.count, by: 4).map {
            pixels[$0] > 127 || pixels[$0 + 1] > 127 || pixels[$0 + 2] > 127
        }
    }
}
