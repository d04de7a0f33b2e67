import ArgumentParser
import Foundation
import LaneRuntime
import LaneSim
import RoadCargo

/// `lanesim interactive`: lanes to play with from a terminal. Each lane's
/// board changes are printed as lines; commands come from standard input.
struct Interactive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive simulated lanes by hand from the terminal (the simulated clock follows real time).",
        discussion: """
            Commands, one per line:
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

    func validate() throws {
        guard (1...8).contains(lanes) else { throw ValidationError("--lanes: 1 to 8") }
    }

    func run() async throws {
        setenv("SDL_VIDEODRIVER", "offscreen", 0)
        var list: [Lane] = []
        for n in 1...lanes {
            let inbound = n % 2 == 1
            list.append(
                Lane(
                    id: try LaneID("LMC-\(inbound ? "IN" : "OUT")-0\((n + 1) / 2)"), controlPoint: .lokMaChau,
                    direction: inbound ? .inbound : .outbound))
        }
        let simulation = try await Simulation(
            settings: Simulation.Settings(start: Date(), lanes: list))
        for lane in list {
            let running = try await simulation.startLane(lane.id)
            let boards = await running.controller.drawnBoards()
            Task {
                for await board in boards {
                    say("[\(Self.clock(simulation))] \(lane.id.value)  \(ScenarioText.describe(board))")
                }
            }
            try await simulation.command(.open, lane: lane.id, officer: "lanesim")
        }
        // Ready when every lane is linked and open, as a control point in service.
        let ready = ContinuousClock.now + .seconds(15)
        for lane in simulation.runningLanes {
            while await !lane.status().open, ContinuousClock.now < ready {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        let ticker = Task {
            var last = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
                let now = ContinuousClock.now
                let (whole, atto) = (now - last).components
                await simulation.advance(by: Double(whole) + Double(atto) / 1e18)
                last = now
            }
        }
        say(
            "lanesim: \(list.map(\.id.value).joined(separator: ", ")); lane 1 selected. Type a plate and Enter, or ? for help."
        )
        var selected = list[0]
        for await line in Self.standardInputLines() {
            let text = line.trimmingCharacters(in: .whitespaces)
            do {
                switch text.lowercased() {
                case "": continue
                case "q", "quit", "exit":
                    ticker.cancel()
                    await simulation.shutdown()
                    return
                case "?", "help": say(Self.configuration.discussion)
                case "u": try simulation.lane(selected.id).click(.unladen)
                case "h": try simulation.lane(selected.id).click(.help)
                case "l": try await simulation.lane(selected.id).leave()
                case "s":
                    for lane in simulation.runningLanes { say(ScenarioText.statusLine(await lane.status())) }
                default:
                    if let n = Int(text), (1...list.count).contains(n) {
                        selected = list[n - 1]
                        say("lane \(selected.id.value) selected")
                    } else if text.hasPrefix("+"),
                        let seconds = ScenarioText.seconds(String(text.dropFirst()))
                    {
                        await simulation.advance(by: seconds)
                        say("[\(Self.clock(simulation))] clock moved on")
                    } else if text.lowercased().hasPrefix("bundle ") {
                        let vrn = try VRN(String(text.dropFirst(7)))
                        let c = try await simulation.submit(direction: selected.direction)
                        let b = try await simulation.bundle(
                            vrn: vrn, direction: selected.direction, ccrns: [c.ccrn])
                        say(
                            "UBR \(b.ubr) for \(vrn.value): may cross from \(HongKongTime.displayString(b.earliestCrossing))"
                        )
                    } else {
                        try await simulation.lane(selected.id).arrive(try VRN(text))
                    }
                }
            } catch {
                say("lanesim: \(error)")
            }
        }
        ticker.cancel()
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
