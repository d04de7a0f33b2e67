import BoardLayout
import Displays
import Foundation
import GPIO
import LaneRuntime
import RoadCargo

/// A person driving simulated lanes by hand: the typed plate, the selected
/// lane, and what each key does. The terminal and the window both feed it.
public actor InteractiveSession {
    public let simulation: Simulation
    public private(set) var selected = 0
    /// The plate being typed in the window.
    public private(set) var typing = ""
    private let lanes: [Lane]
    /// Says what happened, for the terminal or the window's log.
    private let say: @Sendable (String) -> Void

    public init(simulation: Simulation, say: @escaping @Sendable (String) -> Void) {
        self.simulation = simulation
        self.lanes = simulation.settings.lanes
        self.say = say
    }

    public var selectedLane: Lane { lanes[selected] }

    /// Opens every lane (an officer's command through central) and waits until
    /// each is open and linked, as a control point in service.
    public func openLanes() async throws {
        for lane in lanes {
            try await simulation.command(.open, lane: lane.id, officer: "lanesim")
        }
        let ready = ContinuousClock.now + .seconds(15)
        for lane in simulation.runningLanes {
            while await !lane.status().open, ContinuousClock.now < ready {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    // MARK: The window's keys

    /// One input from the window. U and H press Unladen and Help while no
    /// plate is being typed; other characters type a plate; Enter makes the
    /// typed plate arrive, or with nothing typed makes the vehicle leave; Tab
    /// selects the next lane. Returns false for quit.
    public func handle(_ input: SimulatorWindow.Input) async -> Bool {
        do {
            switch input {
            case .quit:
                return false
            case .nextLane:
                selected = (selected + 1) % lanes.count
                typing = ""
            case .backspace:
                if !typing.isEmpty { typing.removeLast() }
            case .enter:
                if typing.trimmingCharacters(in: .whitespaces).isEmpty {
                    try await simulation.lane(selectedLane.id).leave()
                } else {
                    let plate = typing
                    typing = ""
                    try await simulation.lane(selectedLane.id).arrive(try VRN(plate))
                }
            case .text(let text):
                if typing.isEmpty, text.count == 1, let role = Self.button(text) {
                    try simulation.lane(selectedLane.id).click(role)
                } else {
                    typing += text.uppercased()
                }
            }
        } catch {
            say("lanesim: \(error)")
        }
        return true
    }

    static func button(_ key: String) -> ButtonRole? {
        switch key.lowercased() {
        case "u": .unladen
        case "h": .help
        default: nil
        }
    }

    // MARK: The terminal's lines

    /// One line from the terminal (see `lanesim interactive --help`). Returns false for quit.
    public func handle(line: String) async -> Bool {
        let text = line.trimmingCharacters(in: .whitespaces)
        do {
            switch text.lowercased() {
            case "": break
            case "q", "quit", "exit": return false
            case "u": try simulation.lane(selectedLane.id).click(.unladen)
            case "h": try simulation.lane(selectedLane.id).click(.help)
            case "l": try await simulation.lane(selectedLane.id).leave()
            case "s":
                for lane in simulation.runningLanes { say(ScenarioText.statusLine(await lane.status())) }
            default:
                if let n = Int(text), (1...lanes.count).contains(n) {
                    selected = n - 1
                    say("lane \(selectedLane.id.value) selected")
                } else if text.hasPrefix("+"), let seconds = ScenarioText.seconds(String(text.dropFirst())) {
                    try await simulation.advance(by: seconds)
                    say("clock moved on to \(HongKongTime.displayString(simulation.clock.now()))")
                } else if text.lowercased().hasPrefix("bundle ") {
                    let vrn = try VRN(String(text.dropFirst(7)))
                    let lane = selectedLane
                    let c = try await simulation.submit(direction: lane.direction)
                    let b = try await simulation.bundle(vrn: vrn, direction: lane.direction, ccrns: [c.ccrn])
                    say(
                        "UBR \(b.ubr) for \(vrn.value): may cross from \(HongKongTime.displayString(b.earliestCrossing))"
                    )
                } else {
                    try await simulation.lane(selectedLane.id).arrive(try VRN(text))
                }
            }
        } catch {
            say("lanesim: \(error)")
        }
        return true
    }

    /// The window's loop: keys in, and a new frame whenever a lane or the
    /// prompt changed, until Esc or the window is closed.
    public func run(window: SimulatorWindow) async throws {
        var shown: [String] = []
        while true {
            for input in await window.poll() {
                guard await handle(input) else { return }
            }
            let (tiles, prompt) = await tiles()
            let now = tiles.map(\.status) + [prompt.components(separatedBy: "  ").dropFirst().joined()]
            if now != shown {
                try await window.present(tiles, prompt: prompt)
                shown = now
            }
            try await Task.sleep(for: .milliseconds(30))
        }
    }

    // MARK: The window's picture

    /// Every lane's boards and status line, and the prompt.
    public func tiles() async -> (tiles: [SimulatorWindow.Tile], prompt: String) {
        let tiles = await ControlPointView.tiles(simulation, selected: selected)
        let clock = HongKongTime.displayString(simulation.clock.now())
        let prompt =
            "\(clock)  plate: \(typing)_   U Unladen · H Help · Enter arrive (empty: leave) · Tab lane · Esc quit"
        return (tiles, prompt)
    }
}

/// What the simulator's window shows of a control point.
public enum ControlPointView {
    /// Each lane's boards, as the lane drew them, and a status line with its last decision.
    public static func tiles(_ simulation: Simulation, selected: Int?) async -> [SimulatorWindow.Tile] {
        var tiles: [SimulatorWindow.Tile] = []
        for (index, lane) in simulation.settings.lanes.enumerated() {
            guard let running = try? simulation.lane(lane.id) else {
                tiles.append(
                    .init(
                        xdb: nil, aiop: nil, status: "\(lane.id.value): stopped", selected: index == selected)
                )
                continue
            }
            let status = await running.status()
            let last =
                status.lastDecision.map { " · last \($0.instruction.rawValue) \($0.reason.rawValue)" } ?? ""
            tiles.append(
                .init(
                    xdb: try? await running.controller.picture(.xdb),
                    aiop: try? await running.controller.picture(.aiop),
                    status: ScenarioText.statusLine(status) + last, selected: index == selected))
        }
        return tiles
    }
}
