import Foundation
import LaneControl
import Testing

/// laned's answers read back into LaneControl's types: what the types (and
/// so lanectl, its tests' double and docs/control-socket.md) say is what a
/// real lane sends.
@Suite struct ControlProtocolTests {
    @Test func everyCommandsResultDecodesIntoItsType() async throws {
        let rig = try await LaneRig(centralUp: false)
        let running = try await rig.startLane()
        let lane = running

        let closed = try await lane.call(.status, ControlStatus.self)
        #expect(closed.phase == "closed")
        #expect(closed.open == false)
        #expect(closed.reason == nil)

        _ = try await lane.call(.open(officer: "chan"), ControlEmptyResult.self)
        #expect(try await lane.refusal(.open())?.known == .laneState, "opening an open lane is refused")
        let arrived = try await lane.call(.arrive(vrn: "ab 1234"), ControlArriveResult.self)
        #expect(arrived.vrn == "AB1234")
        #expect(try await lane.refusal(.arrive(vrn: "AB-1234!"))?.known == .invalidVRN)

        let status = try await lane.call(.status, ControlStatus.self)
        #expect(status.vrn == "AB1234")
        #expect(status.open)

        _ = try await lane.call(.press(button: .unladen, action: .click), ControlEmptyResult.self)
        let journal = try await lane.call(.journal(limit: 50), ControlJournalResult.self)
        #expect(journal.entries.contains { $0.kind == "lane_opened" && $0.officer == "chan" })
        #expect(journal.entries.contains { $0.kind == "arrival" && $0.vrn == "AB1234" })
        let after = try #require(journal.entries.first?.seq)
        let later = try await lane.call(.journal(limit: 1000, after: after), ControlJournalResult.self)
        #expect(
            later.entries.first?.seq == journal.entries.dropFirst().first?.seq,
            "after: the entries that follow")

        let shot = try await lane.call(.screenshot(board: .aiop), ControlScreenshotResult.self)
        #expect(shot.png?.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true)

        _ = try await lane.call(.leave, ControlEmptyResult.self)
        _ = try await lane.call(.close(), ControlEmptyResult.self)
        let journalAfter = try await lane.call(.journal(), ControlJournalResult.self)
        #expect(
            journalAfter.entries.last { $0.kind == "lane_closed" }?.officer == ControlRequest.defaultOfficer)
        await running.stop()
    }
}
