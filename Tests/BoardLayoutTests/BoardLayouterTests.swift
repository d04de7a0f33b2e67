import Testing

@testable import BoardLayout

@Suite struct BoardLayouterTests {
    let measurer = FixedWidthMeasurer()

    /// Every catalogue screen in every language fits the default boards, with
    /// its texts inside the screen and apart from each other and the pictograms.
    @Test(arguments: BoardKind.allCases)
    func catalogueScreensFitTheDefaultBoards(board: BoardKind) {
        let layouter = BoardLayouter(board: board)
        for screen in ScreenCatalogue.screens {
            for language in BoardState.Language.allCases {
                let layout = layouter.layout(screen.state(in: language), measurer: measurer)
                #expect(layout.problems.isEmpty, "\(board) \(screen.name) \(language): \(layout.problems)")
                let full = Rect(origin: .zero, size: layout.size)
                for block in layout.textBlocks {
                    #expect(full.contains(block.box))
                    #expect(!layout.pictograms.contains { $0.frame.intersects(block.box) })
                    #expect(
                        block.lines.allSatisfy {
                            measurer.width(of: $0.text, in: block.style) <= block.box.size.width
                        })
                }
                #expect(full.contains(layout.instructionPictogram.frame))
                #expect(layout.instructionRegion.contains(layout.instructionPictogram.frame))
            }
        }
    }

    @Test func fartherViewingMeansLargerText() throws {
        let state = BoardState(phase: .welcome)
        func headlineSize(_ metres: Double) throws -> Int {
            let geometry = try BoardGeometry(
                width: 256, height: 256, physicalWidthMillimetres: 980, physicalHeightMillimetres: 980,
                viewingDistanceMetres: metres)
            let layout = BoardLayouter(board: .xdb, geometry: geometry).layout(state, measurer: measurer)
            #expect(layout.problems.isEmpty)
            return layout.textBlocks.filter { $0.role != .mark }.map(\.style.size).min() ?? 0
        }
        let near = try headlineSize(5)
        let far = try headlineSize(25)
        #expect(far >= 33, "25 m needs 33 px of em on a 3.8 mm pitch")
        #expect(near >= 14)
    }

    /// A board too small for its distance gets smaller text and says so, rather than cutting any.
    @Test func anUndersizedBoardReportsItsProblems() throws {
        let tiny = try BoardGeometry(
            width: 64, height: 64, physicalWidthMillimetres: 980, physicalHeightMillimetres: 980,
            viewingDistanceMetres: 40)
        let state = BoardState(phase: .decided(instruction: .inspect, reason: .random, earliestCrossing: nil))
        let layout = BoardLayouter(board: .xdb, geometry: tiny).layout(state, measurer: measurer)
        #expect(layout.problems.contains { if case .belowLegibleSize = $0 { true } else { false } })
        #expect(layout.problems.contains { if case .overflow = $0 { true } else { false } })
        let shown = layout.textBlocks.filter { $0.role == .headline }.flatMap(\.lines).map(\.text).joined()
        #expect(shown == BoardText.inspect.traditionalChinese, "nothing is cut")
    }

    @Test func theLanguageBarOffersEachLanguageOnce() {
        let layout = BoardLayouter(board: .aiop).layout(BoardState(phase: .welcome), measurer: measurer)
        let cells = BoardState.Language.allCases.compactMap { layout.languageTargets[$0] }
        #expect(cells.count == 3)
        #expect(cells.map(\.size.width).reduce(0, +) == layout.size.width)
        #expect(cells.allSatisfy { $0.maxY == layout.size.height })
        #expect(!cells[0].intersects(cells[1]) && !cells[1].intersects(cells[2]))
        // The active language is told by a filled cell and bold text, not by colour alone.
        let labels = layout.textBlocks.filter { $0.role == .language }
        #expect(labels.filter { $0.style.weight == .bold }.map { $0.lines.first?.text } == ["繁體中文"])
        #expect(
            BoardLayouter(board: .xdb).layout(BoardState(phase: .welcome), measurer: measurer).languageTargets
                .isEmpty)
    }

    /// A wrapped headline is balanced: no character left alone on the last line.
    @Test func wrappedLinesAreBalanced() {
        let state = BoardState(phase: .decided(instruction: .inspect, reason: .random, earliestCrossing: nil))
        let layout = BoardLayouter(board: .xdb).layout(state, measurer: measurer)
        let lines = layout.textBlocks.first { $0.role == .headline }?.lines.map(\.text.count) ?? []
        #expect(lines.count >= 2)
        #expect((lines.max() ?? 0) - (lines.min() ?? 0) <= 1, "line lengths \(lines)")
    }

    @Test func theSameStateLaysOutTheSame() {
        let state = ScreenCatalogue.screen(named: "officer-message")!.state
        let layouter = BoardLayouter(board: .aiop)
        #expect(layouter.layout(state, measurer: measurer) == layouter.layout(state, measurer: measurer))
    }
}
