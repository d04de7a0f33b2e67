import BoardLayout
import Testing

@testable import Displays

/// Every state, in every language, on every geometry, measured by the font
/// that draws it: no text leaves its box, none is drawn over another, none
/// is smaller than the driver can read, and the instruction is never cut.
@Suite struct LayoutOverflowTests {
    @Test(arguments: TestGeometry.allCases)
    func noTextOverflowsOnAnyScreen(geometry: TestGeometry) throws {
        let rig = try Rig()
        var failures: [String] = []
        for language in geometry.languages {
            for original in StateSpace.states {
                var state = original
                state.language = language
                let layout = geometry.layouter.layout(state, measurer: rig.fonts)
                let issues =
                    layout.problems.map(\.description)
                    + Self.issues(in: layout, state: state, fonts: rig.fonts)
                if !issues.isEmpty { failures.append("\(language.rawValue) \(state.phase): \(issues)") }
            }
        }
        #expect(rig.fonts.measuringError == nil)
        #expect(
            failures.isEmpty,
            "\(failures.count) screens overflow on \(geometry), such as \(failures.prefix(5))")
    }

    /// The checks above find an overflow where there is one: a board far too
    /// small for its viewing distance.
    @Test func anUndersizedBoardIsReported() throws {
        let rig = try Rig()
        let tiny = try BoardGeometry(
            width: 96, height: 96, physicalWidthMillimetres: 980, physicalHeightMillimetres: 980,
            viewingDistanceMetres: 30)
        let state = BoardState(phase: .decided(instruction: .inspect, reason: .random, earliestCrossing: nil))
        let layout = BoardLayouter(board: .xdb, geometry: tiny).layout(state, measurer: rig.fonts)
        #expect(!layout.problems.isEmpty)
    }

    /// What a reader of the finished layout can check for itself, with the real font.
    static func issues(in layout: ScreenLayout, state: BoardState, fonts: FontSet) -> [String] {
        var issues: [String] = []
        let screen = Rect(origin: .zero, size: layout.size)
        let blocks = layout.textBlocks
        for (index, block) in blocks.enumerated() {
            if !screen.contains(block.box) {
                issues.append("\(block.role) box \(block.box) leaves the screen")
            }
            for line in block.lines {
                let width = fonts.width(of: line.text, in: block.style)
                let drawn = Rect(origin: line.origin, size: Size(width: width, height: block.lineHeight))
                if !block.box.contains(drawn) {
                    issues.append(
                        "\(block.role) line \"\(line.text)\" (\(drawn)) leaves its box \(block.box)")
                }
            }
            for other in blocks[(index + 1)...] where other.box.intersects(block.box) {
                issues.append("\(block.role) and \(other.role) overlap")
            }
            for pictogram in layout.pictograms where pictogram.frame.intersects(block.box) {
                issues.append("\(block.role) overlaps pictogram \(pictogram.pictogram)")
            }
        }
        // Nothing of the instruction may be lost to wrapping.
        let content = ScreenContent(board: layout.board, state: state)
        let expected =
            layout.board == .xdb
            ? content.headline.traditionalChinese : content.headline.text(in: state.language)
        let shown = blocks.filter { $0.role == .headline }.flatMap(\.lines).map(\.text).joined()
        if shown.filter({ !$0.isWhitespace }) != expected.filter({ !$0.isWhitespace }) {
            issues.append("headline shows \"\(shown)\" for \"\(expected)\"")
        }
        return issues
    }
}
