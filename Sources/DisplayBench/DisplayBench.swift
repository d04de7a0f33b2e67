import BoardLayout
import Displays
import Foundation

/// Render and present time of every screen on both boards, beside a plain
/// full-frame fill presented the same way in the same run. Prints figures;
/// it is not a test (scripts/bench-displays.sh).
@main
struct DisplayBench {
    static let frameBudget = Duration.microseconds(16_667)

    static func main() throws {
        var frames = 100
        var headless = false
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            switch argument {
            case "--frames":
                guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else {
                    fail("--frames needs a positive number of frames per screen")
                }
                frames = value
            case "--headless":
                headless = true
            case "--help", "-h":
                print(usage)
                return
            default:
                fail("unknown argument \(argument)\n\(usage)")
            }
        }

        let context = try SDLContext()
        let fonts = try FontSet(context: context)
        print("DisplayBench: \(frames) frames per screen; median and 95th percentile in ms")
        print("SDL video driver: \(context.videoDriver); path: \(headless ? "headless surface" : "window")")
        print(
            "render = layout + draw into the back buffer + present; fill = one-colour frame, same present path"
        )
        print(
            pad("board", 6) + pad("screen", 27) + pad("first", 9) + pad("median", 9) + pad("p95", 9)
                + pad("layout", 9) + pad("fill", 9) + pad("/16.7ms", 9) + "/fill")
        var worst = 0.0
        for board in BoardKind.allCases {
            let layouter = BoardLayouter(board: board)
            let renderer: any BoardRenderer
            if headless {
                renderer = try HeadlessBoardRenderer(layouter: layouter, fonts: fonts, context: context)
            } else {
                let window = try WindowBoardRenderer(
                    layouter: layouter, fonts: fonts, context: context, displayIndex: 0, fullscreen: false)
                if board == .xdb { print("SDL renderer: \(window.rendererName)") }
                renderer = window
            }
            for screen in ScreenCatalogue.screens where screen.boards.contains(board) {
                let state = screen.state(in: .traditionalChinese)
                let clock = ContinuousClock()
                // The first frame measures and rasterises glyphs for the first time.
                let first = try clock.measure { try renderer.show(state) }
                var renders: [Duration] = []
                var fills: [Duration] = []
                var layouts: [Duration] = []
                for index in 0..<frames {
                    // A fill in between makes every render a real change of frame.
                    fills.append(
                        try clock.measure { try renderer.presentSolidFrame(index % 2 == 0 ? .black : .white) }
                    )
                    renders.append(try clock.measure { try renderer.show(state) })
                    layouts.append(clock.measure { _ = layouter.layout(state, measurer: fonts) })
                }
                let median = percentile(renders, 0.5)
                let ratio = median / frameBudget
                worst = max(worst, ratio)
                print(
                    pad(board.rawValue.uppercased(), 6) + pad(screen.name, 27) + pad(ms(first), 9)
                        + pad(ms(median), 9) + pad(ms(percentile(renders, 0.95)), 9)
                        + pad(ms(percentile(layouts, 0.5)), 9) + pad(ms(percentile(fills, 0.5)), 9)
                        + pad(String(format: "%.3f", ratio), 9)
                        + String(format: "%.1f", median / max(percentile(fills, 0.5), .nanoseconds(1))))
            }
        }
        print(
            String(format: "worst median: %.3f of a 60 Hz frame (16.7 ms); ", worst)
                + (worst < 1 ? "every screen renders and presents within one frame" : "OVER one frame"))
    }

    static let usage = """
        usage: DisplayBench [--frames N] [--headless]
          --frames N   frames per screen (default 100)
          --headless   the software surface path instead of a window
        The window path uses SDL's video driver as chosen by SDL_VIDEODRIVER
        (offscreen without a display server, x11 or wayland on a desktop, KMSDRM on a kiosk).
        """

    static func percentile(_ samples: [Duration], _ fraction: Double) -> Duration {
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
    }

    static func ms(_ duration: Duration) -> String {
        String(
            format: "%.2f",
            Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1e3)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("DisplayBench: \(message)\n".utf8))
        exit(64)
    }
}
