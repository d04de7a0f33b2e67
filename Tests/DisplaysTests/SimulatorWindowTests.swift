import BoardLayout
import Testing

@testable import Displays

@Suite struct SimulatorWindowTests {
    static func solid(_ color: RGBAColor, _ width: Int, _ height: Int) -> RGBAImage {
        RGBAImage(
            width: width, height: height,
            pixels: Array(repeating: [color.red, color.green, color.blue, 255], count: width * height).flatMap
            { $0 })
    }

    @Test func eachLanesBoardsSitSideBySideWithItsStatusLine() async throws {
        let context = try SDLContext(videoDriver: "offscreen")
        let window = try await SimulatorWindow.open(lanes: 2)
        let red = RGBAColor(red: 200, green: 0, blue: 0)
        let blue = RGBAColor(red: 0, green: 0, blue: 200)
        try await window.present(
            [
                .init(
                    xdb: Self.solid(red, 256, 256), aiop: Self.solid(blue, 800, 600),
                    status: "LMC-IN-01 STOP", selected: true),
                .init(xdb: nil, aiop: nil, status: "LMC-OUT-01 closed", selected: false),
            ], prompt: "Plate: AB12")
        let frame = try #require(await window.snapshot())
        #expect(frame.width == SimulatorWindow.size(lanes: 2).width)
        let g = SimulatorWindow.gap
        #expect(frame[Point(x: g + 150, y: g + 150)] == red, "the XDB, scaled to its square")
        #expect(
            frame[Point(x: 2 * g + SimulatorWindow.xdbWidth + 200, y: g + 150)] == blue,
            "the AIOP beside it")
        // The status line under the first lane holds text (white on the selected lane's band).
        let line = Rect(
            origin: Point(x: g, y: g + SimulatorWindow.boardHeight),
            size: Size(width: 300, height: SimulatorWindow.lineHeight))
        var white = 0
        for y in line.origin.y..<(line.origin.y + line.size.height) {
            for x in line.origin.x..<(line.origin.x + line.size.width)
            where frame[Point(x: x, y: y)].red > 200 {
                white += 1
            }
        }
        #expect(white > 50, "status text is drawn")
        await window.close()
        _ = context
    }

    @Test func typingAndKeysComeBackInOrder() async throws {
        let context = try SDLContext(videoDriver: "offscreen")
        let window = try await SimulatorWindow.open(lanes: 1)
        _ = await window.poll()
        for input: SimulatorWindow.Input in [.text("A"), .text("B1"), .backspace, .enter, .nextLane] {
            await window.inject(input)
        }
        #expect(await window.poll() == [.text("A"), .text("B1"), .backspace, .enter, .nextLane])
        await window.inject(.quit)
        #expect(await window.poll() == [.quit])
        await window.close()
        #expect(await window.poll() == [.quit], "a closed window only says quit")
        _ = context
    }
}
