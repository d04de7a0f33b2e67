import BoardLayout
import Foundation
import Testing

@testable import Displays

@Suite struct BoardRendererTests {
    let welcome = BoardState(phase: .welcome)
    let stop = BoardState(phase: .stop(awaitingUnladen: false), vrn: ScreenCatalogue.sampleVRN)

    @Test func drawsOnlyWhenTheStateChanges() throws {
        let rig = try Rig()
        let renderer = try rig.renderer(.aiop800)
        #expect(try renderer.snapshot() == nil)
        #expect(try renderer.show(welcome))
        #expect(try !renderer.show(welcome))
        #expect(renderer.framesDrawn == 1)
        #expect(try renderer.show(stop))
        #expect(try renderer.show(welcome))
        #expect(renderer.framesDrawn == 3)
        #expect(renderer.state == welcome)
    }

    @Test func aLanguageSwitchRedrawsTheAIOP() throws {
        let rig = try Rig()
        let renderer = try rig.renderer(.aiop800)
        try renderer.show(stop)
        let chinese = try #require(try renderer.snapshot())
        var english = stop
        english.language = .english
        #expect(try renderer.show(english))
        #expect(try renderer.snapshot() != chinese)
        let headline = renderer.layout?.textBlocks.first { $0.role == .headline }?.lines.map(\.text)
        #expect(headline?.joined(separator: " ") == "Please Stop")
    }

    /// The XDB shows Chinese and English whatever the driver chose on the
    /// AIOP: a language switch lays out the same XDB screen, and draws nothing there.
    @Test func aChangeTheBoardDoesNotShowDrawsNothing() throws {
        let rig = try Rig()
        let xdb = try rig.renderer(.xdb256)
        let aiop = try rig.renderer(.aiop800)
        try xdb.show(stop)
        try aiop.show(stop)
        var english = stop
        english.language = .english
        #expect(try !xdb.show(english))
        #expect(try aiop.show(english))
        #expect(xdb.framesDrawn == 1 && aiop.framesDrawn == 2)
        #expect(xdb.state == english, "the board knows the state it shows")
    }

    @Test func headlessWritesEachFrameAsAPNGFile() throws {
        let rig = try Rig()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lanekiosk-headless-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("xdb.png").path
        let renderer = try HeadlessBoardRenderer(
            layouter: TestGeometry.xdb256.layouter, fonts: rig.fonts, context: rig.context, outputPath: path)
        try renderer.show(stop)
        let written = try DecodedPNG(Array(try #require(FileManager.default.contents(atPath: path))))
        #expect(written.image == (try renderer.snapshot()))
        #expect(written.colorType == 2, "a board frame is opaque and saved as RGB")
        try renderer.show(welcome)
        let rewritten = try DecodedPNG(Array(try #require(FileManager.default.contents(atPath: path))))
        #expect(rewritten.image != written.image)
    }

    /// The window path (target texture, then present) shows what headless
    /// draws; under the offscreen driver the window has a real framebuffer.
    @Test func aWindowPresentsTheSameFrameAsHeadless() throws {
        let rig = try Rig()
        let window = try WindowBoardRenderer(
            layouter: TestGeometry.aiop800.layouter, fonts: rig.fonts, context: rig.context, displayIndex: 0,
            fullscreen: false)
        #expect(try window.snapshot() == nil)
        #expect(try window.show(stop))
        #expect(try !window.show(stop))
        let headless = try rig.renderer(.aiop800)
        try headless.show(stop)
        let shown = try #require(try window.snapshot())
        #expect(GoldenImageTests.difference(shown, try #require(try headless.snapshot())) == nil)
        try window.present()
        #expect(window.framesDrawn == 1)
    }

    /// The technicians' test pattern goes through the same present path, and
    /// the state shown before it is drawn again afterwards.
    @Test(arguments: [false, true])
    func aSolidTestFrameThenTheStateAgain(window: Bool) throws {
        let rig = try Rig()
        let renderer: any BoardRenderer =
            window
            ? try WindowBoardRenderer(
                layouter: TestGeometry.xdb256.layouter, fonts: rig.fonts, context: rig.context,
                displayIndex: 0,
                fullscreen: false)
            : try rig.renderer(.xdb256)
        try renderer.show(stop)
        let red = RGBAColor(red: 255, green: 0, blue: 0)
        try renderer.presentSolidFrame(red)
        let solid = try #require(try renderer.snapshot())
        #expect(solid.countOfPixels(differentFrom: red) == 0)
        #expect(renderer.state == nil)
        #expect(try renderer.show(stop))
        #expect(renderer.framesDrawn == 2)
        try renderer.redraw()
        #expect(renderer.framesDrawn == 3)
        #expect(try renderer.snapshot()?.countOfPixels(differentFrom: red) ?? 0 > 0)
    }

    @Test func aDisplayThatIsNotThereIsNamed() throws {
        let rig = try Rig()
        #expect(throws: DisplayError.displayNotFound(index: 7, available: 1)) {
            try WindowBoardRenderer(
                layouter: TestGeometry.xdb256.layouter, fonts: rig.fonts, context: rig.context,
                displayIndex: 7,
                fullscreen: true)
        }
    }

    @Test func anOfficersTextWithoutGlyphsIsShownWithQuestionMarks() throws {
        let rig = try Rig()
        let renderer = try rig.renderer(.aiop800)
        let state = BoardState(
            phase: .stop(awaitingUnladen: false), help: .connected,
            officerMessage: BoardState.OfficerMessage(phraseID: 1, text: "Bay \u{E000}3"))
        try renderer.show(state)
        let text = renderer.layout?.textBlocks.first { $0.role == .officerText }?.lines.map(\.text)
        #expect(text == ["Bay ?3"])
        #expect(renderer.state == state, "the state is kept as given; only the drawing is sanitised")
    }

    @Test func laneDisplaysStartClosedInTheDefaultLanguage() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lanekiosk-lane-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let displays = try LaneDisplays(
            configuration: DisplayConfiguration(outputDirectory: directory.path, defaultLanguage: .english))
        let headline = displays.aiop.layout?.textBlocks.first { $0.role == .headline }?.lines.map(\.text)
        #expect(headline?.joined(separator: " ") == "Lane Closed")
        #expect(displays.xdb.state?.phase == .closed)
        for board in BoardKind.allCases {
            let file = directory.appendingPathComponent("\(board.rawValue).png").path
            let decoded = try DecodedPNG(Array(try #require(FileManager.default.contents(atPath: file))))
            #expect(decoded.width == displays.configuration.board(board).geometry.width)
        }
        try displays.show(welcome)
        #expect(displays.xdb.framesDrawn == 2 && displays.aiop.framesDrawn == 2)
        #expect(try displays.pumpEvents() == LaneDisplays.Events())
    }

    @Test func theActorDrawsOnItsOwnThreadAndRefusesAfterClosing() async throws {
        let displays = try await BoardDisplays.start(DisplayConfiguration())
        try await displays.show(stop)
        let png = try await displays.screenshotPNG(.aiop)
        let decoded = try DecodedPNG(png)
        #expect(decoded.width == 800 && decoded.height == 600)
        #expect(try await displays.layout(.xdb)?.board == .xdb)
        await displays.close()
        await #expect(throws: DisplayError.closed) { try await displays.show(welcome) }
    }
}
