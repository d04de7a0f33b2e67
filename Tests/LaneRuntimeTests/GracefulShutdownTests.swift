import Foundation
import LaneControl
import LaneCore
import LaneJournal
import LaneRuntime
import Logging
import RoadCargo
import ServiceLifecycle
import Synchronization
import Testing

/// The parts of a lane in the order they reported stopping.
final class StopRecorder: Sendable {
    private let stopped = Mutex<[LanePart]>([])

    var order: [LanePart] { stopped.withLock { $0 } }

    func record(_ part: LanePart) { stopped.withLock { $0.append(part) } }
}

@Suite("laned's graceful shutdown: the parts stop in order and nothing journaled is lost")
struct GracefulShutdownTests {
    @Test(.timeLimit(.minutes(2)))
    func inputStopsFirstTheQueuedTruckIsJournaledAndTheJournalClosesLast() async throws {
        let rig = try await LaneRig()
        try await rig.bundle(try VRN("GS1234"))
        let recorder = StopRecorder()
        let group = Mutex<ServiceGroup?>(nil)
        // As laned runs it, less the signals: the trigger stands in for SIGTERM.
        let lane = try await rig.startLane(partStopped: recorder.record) { daemon in
            var logger = Logger(label: "GracefulShutdownTests")
            logger.logLevel = .critical
            let running = ServiceGroup(configuration: .init(services: daemon.services(), logger: logger))
            group.withLock { $0 = running }
            try await running.run()
        }
        try await lane.waitFor("the link up") { $0.link == "up" }
        try await lane.call(.open())
        try await lane.call(.arrive(vrn: "GS1234"))
        try await lane.waitFor("CLEARED") { $0.xdb == "CLEARED" }
        try await lane.call(.leave)
        let before = try await lane.journal()

        // A truck reaches the lane just as SIGTERM does: its arrival is
        // queued, not yet handled, when the shutdown starts.
        lane.daemon.controller.post(.vehicleArrived(try VRN("GS5678"), source: .reader))
        await (try #require(group.withLock { $0 })).triggerGracefulShutdown()
        try await lane.stopped()

        // Input first, then the controller, the link, the boards, the journal.
        #expect(
            recorder.order == [.controlSocket, .buttons, .retention, .controller, .link, .boards, .journal])
        // Closed: the daemon's own handle refuses reads.
        await #expect(throws: (any Error).self) { _ = try await lane.daemon.journal.tail(limit: 1) }

        // Reopened as the next start would: everything journaled before the
        // trigger is there, and so is the truck that was still queued.
        let reopened = try await LaneJournal.open(path: lane.daemon.journal.path, clock: rig.clock)
        let after = try await reopened.tail(limit: 500)
        let sequences = Set(after.map(\.seq))
        for entry in before {
            #expect(sequences.contains(entry.seq), "entry \(entry) was lost")
        }
        #expect(!before.isEmpty)
        #expect(
            after.contains { $0.kind == "arrival" && $0.entry?.vrn?.value == "GS5678" },
            "the truck queued when the shutdown started was handled and journaled")
        try await reopened.close()
    }

    /// The simulator kills lanes and keeps its clock going: a timer of a
    /// stopped lane that falls due is dropped, and `advance` does not wait
    /// on a lane that will never handle it.
    @Test(.timeLimit(.minutes(2)))
    func aTimerDueAfterTheLaneWasKilledIsDroppedWithoutHangingTheClock() async throws {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane()
        try await lane.call(.open())
        try await lane.call(.arrive(vrn: "GS9999"))
        // Central is away: rule 4's timer runs (and the unladen grace, 20 s).
        #expect(rig.timers.deadlines[.decisionTimeout] != nil)
        await lane.stop()

        await rig.timers.advance(by: 30)
        #expect(rig.timers.deadlines.isEmpty, "the timer fell due and was dropped")
    }
}
