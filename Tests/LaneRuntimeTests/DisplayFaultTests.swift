import BoardLayout
import Displays
import Foundation
import LaneCore
import LaneJournal
import LaneLink
import LaneRuntime
import Logging
import RoadCargo
import Synchronization
import Testing

/// Boards that fail while `failing` is set.
final class FlakyBoards: LaneBoards {
    let failing = Mutex(false)

    struct Broken: Error, CustomStringConvertible {
        var description: String { "the XDB's cable is out" }
    }

    func show(_ state: BoardState) async throws {
        if failing.withLock({ $0 }) { throw Broken() }
    }

    func screenshot(_ board: BoardKind) async throws -> [UInt8] { [] }

    func picture(_ board: BoardKind) async throws -> RGBAImage? { nil }
}

/// The lane's faults live in its state machine: a board that will not draw
/// is one `display_failed` fault, journaled and reported once, and cleared
/// by the next board that draws.
@Suite("Faults: display_failed through the state machine")
struct DisplayFaultTests {
    @Test func aFailingBoardIsOneFaultUntilABoardDrawsAgain() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "display-fault-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = SimulatedWallClock(try HongKongTime.parse("2026-11-26T09:00:00+08:00"))
        let journal = try await LaneJournal.open(
            path: directory.appendingPathComponent("journal.sqlite").path, clock: clock)
        let outbox = try SQLiteOutbox(writer: journal.writer, table: journal.outboxTable)
        var logger = Logger(label: "DisplayFaultTests")
        logger.logLevel = .critical
        let boards = FlakyBoards()
        let id = try LaneID("LMC-IN-01")
        let controller = try await LaneController(
            parts: .init(
                lane: Lane(id: id, controlPoint: .lokMaChau, direction: .inbound),
                settings: LaneSettings(lane: id), journal: journal, outbox: outbox, link: nil, boards: boards,
                lamps: nil, voice: NoVoicePath(logger: logger),
                timers: SimulatedTimerScheduler(clock: clock), clock: clock, offline: nil, logger: logger))
        let running = Task { try await controller.run() }
        defer { running.cancel() }

        boards.failing.withLock { $0 = true }
        try await controller.submit(.open(officer: "officer 1"))
        // A second board change that fails too; the fault raised by the
        // first is handled before this input, so it is not raised again.
        try await controller.submit(.vehicleArrived(try VRN("DF1234"), source: .simulated))
        #expect(await controller.status().faults == ["display_failed"])

        boards.failing.withLock { $0 = false }
        try await controller.submit(.vehicleLeft)
        try await controller.submit(.languageSelected(.english))
        #expect(await controller.status().faults.isEmpty)

        let records = try await journal.tail(limit: 100)
        let faults = records.filter { $0.kind == "fault" }
        #expect(faults.count == 1, "one fault however many boards failed: \(faults.map(\.entry))")
        #expect(faults.first?.entry?.detail.contains("display_failed") == true)
        let cleared = records.filter { $0.kind == "fault_cleared" }
        #expect(cleared.count == 1)
        #expect(cleared.first?.entry?.detail.contains("was_active=true") == true)
    }
}
