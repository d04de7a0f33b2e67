import ArgumentParser
import Displays
import Foundation
import LaneSim
import RoadCargo

/// `lanesim interactive`: lanes to drive by hand, in a window (every lane's
/// boards side by side) or, without a display server, from the terminal.
struct Interactive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive simulated lanes by hand (the simulated clock follows real time).",
        discussion: """
            In the window: type a plate and Enter (the vehicle arrives at the selected lane); \
            Enter with no plate (it leaves); U and H with no plate typed (Unladen, Help; a plate starting \
            with U or H: type a space first); \
            Tab (next lane); Esc (quit).
            In the terminal, one command per line:
              AB1234         a vehicle with this plate arrives at the selected lane
              u / h          press Unladen / Help at the selected lane
              l              the vehicle leaves the selected lane
              1, 2, ...      select a lane
              bundle AB1234  cargo bundled with AB1234 now (it may cross in 30 minutes)
              +30m           move the clock on (also 20s, 1h)
              s              status of every lane
              q              quit
            """)

    @Option(help: "Lanes, alternately inbound and outbound at Lok Ma Chau.")
    var lanes = 2

    @Flag(help: "The terminal, even with a display server.")
    var terminal = false

    func validate() throws {
        guard (1...4).contains(lanes) else { throw ValidationError("--lanes: 1 to 4") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let desktop = environment["DISPLAY"] != nil || environment["WAYLAND_DISPLAY"] != nil
        let useWindow = !terminal && desktop
        if !useWindow { setenv("SDL_VIDEODRIVER", "offscreen", 0) }
        holdSDLForTheProcess()
        let list = try Simulation.lokMaChauLanes(lanes)
        let simulation = try await Simulation(settings: Simulation.Settings(start: Date(), lanes: list))
        let session = InteractiveSession(simulation: simulation) { say($0) }
        for lane in list {
            let running = try await simulation.startLane(lane.id)
            let boards = await running.controller.drawnBoards()
            Task {
                for await board in boards {
                    say("[\(Self.clock(simulation))] \(lane.id.value)  \(ScenarioText.describe(board))")
                }
            }
        }
        try await session.openLanes()
        let ticker = Task {
            var last = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
                let now = ContinuousClock.now
                let (whole, atto) = (now - last).components
                try? await simulation.advance(by: Double(whole) + Double(atto) / 1e18)
                last = now
            }
        }
        defer { ticker.cancel() }
        if useWindow {
            do {
                let window = try await SimulatorWindow.open(lanes: list.count, title: "lanesim: Lok Ma Chau")
                try await session.run(window: window)
                await window.close()
                await simulation.shutdown()
                return
            } catch let error as DisplayError {
                say("lanesim: no window (\(error)); the terminal instead")
            }
        }
        say(
            "lanesim: \(list.map(\.id.value).joined(separator: ", ")); lane 1 selected. "
                + "Type a plate and Enter, or ? for help.")
        for await line in Self.standardInputLines() {
            if line.trimmingCharacters(in: .whitespaces) == "?" {
                say(Self.configuration.discussion)
                continue
            }
            guard await session.handle(line: line) else { break }
        }
        await simulation.shutdown()
    }

    static func clock(_ simulation: Simulation) -> String {
        String(HongKongTime.displayString(simulation.clock.now()).suffix(8))
    }

    /// Standard input's lines, read on a thread of their own.
    static func standardInputLines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while let line = readLine() { continuation.yield(line) }
                continuation.finish()
            }
            thread.start()
        }
    }
}
