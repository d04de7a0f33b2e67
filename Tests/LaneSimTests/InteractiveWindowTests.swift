import BoardLayout
import Displays
import Foundation
import LaneSim
import RoadCargo
import TestKit
import Testing

@Suite struct InteractiveWindowTests {
    @Test func typedPlatesAndKeysDriveTheLaneAndTheWindowShowsIt() async throws {
        setenv("SDL_VIDEODRIVER", "offscreen", 0)
        _ = WindowTestSDL.context
        let lane = Lane(id: try LaneID("LMC-IN-01"), controlPoint: .lokMaChau, direction: .inbound)
        var settings = Simulation.Settings(
            start: try HongKongTime.parse("2026-11-26T09:00:00+08:00"), lanes: [lane])
        settings.decisionTimeout = .seconds(30)
        let simulation = try await Simulation(settings: settings)
        try await simulation.startLane(lane.id)
        let session = InteractiveSession(simulation: simulation) { _ in }
        try await session.openLanes()
        let window = try await SimulatorWindow.open(lanes: 1)

        // A plate typed in two bursts, a slip corrected, Enter; then Unladen.
        for input: SimulatorWindow.Input in [
            .text("ab"), .text("12"), .text("x"), .backspace, .text("34"), .enter,
        ] {
            await window.inject(input)
        }
        await window.inject(.quit)
        try await session.run(window: window)
        let running = try simulation.lane(lane.id)
        var status = await running.status()
        #expect(status.board.vrn?.value == "AB1234")
        #expect(status.board.xdbInstruction == .stop)

        await window.inject(.text("u"))
        await window.inject(.quit)
        try await session.run(window: window)
        _ = await eventually(within: .seconds(10)) {
            status = await running.status()
            return status.board.xdbInstruction == .cleared
        }
        #expect(status.board.xdbInstruction == .cleared, "U with no plate typed is the Unladen button")

        // The window shows the lane's own boards and its status line.
        let (tiles, _) = await session.tiles()
        try await window.present(tiles, prompt: "test")
        let frame = try #require(await window.snapshot())
        let xdb = try #require(try await running.controller.picture(.xdb))
        let g = SimulatorWindow.gap
        let scale = Double(xdb.width) / Double(SimulatorWindow.xdbWidth)
        let probe = Point(x: 150, y: 150)
        #expect(
            frame[Point(x: g + probe.x, y: g + probe.y)]
                == xdb[Point(x: Int(Double(probe.x) * scale), y: Int(Double(probe.y) * scale))])
        #expect(tiles.first?.status.contains("AB1234") == true)

        // Enter with no plate: the vehicle leaves.
        await window.inject(.enter)
        await window.inject(.quit)
        try await session.run(window: window)
        #expect(await running.status().board.xdbInstruction == .welcome)

        // A plate that starts with U: a space first, so that U types rather than presses.
        for input: SimulatorWindow.Input in [.text(" "), .text("u"), .text("x1"), .enter, .quit] {
            await window.inject(input)
        }
        try await session.run(window: window)
        #expect(await running.status().board.vrn?.value == "UX1")
        await window.close()
        await simulation.shutdown()
    }
}

/// SDL kept initialised for the whole test process once a window test ran:
/// when the last context went, SDL_Quit unloaded what the offscreen window
/// had loaded, and the process crashed now and then in code no longer mapped.
enum WindowTestSDL {
    nonisolated(unsafe) static let context: SDLContext? = try? SDLContext(videoDriver: "offscreen")
}
