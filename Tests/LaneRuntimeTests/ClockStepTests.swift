import Foundation
import LaneControl
import LaneLink
import LaneRuntime
import RoadCargo
import TestKit
import Testing

/// The lane's clock stepped through the control socket, as the fault
/// campaign's nemesis steps it: the journal's times jump at one marked
/// entry, and the lane's timers do not move.
@Suite struct ClockStepTests {
    @Test func aStepMovesTheLanesTimeAndIsJournaledWhereTheTimesJump() async throws {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane()
        try await lane.call(.open(officer: "chan"))

        let read = try await lane.call(.clock(), ControlClockResult.self)
        #expect(read.offsetSeconds == 0)
        #expect(read.previousOffsetSeconds == nil)
        #expect(read.now == HongKongTime.iso8601(rig.clock.now()))

        let back = try await lane.call(.clock(offsetSeconds: -3600), ControlClockResult.self)
        #expect(back.offsetSeconds == -3600)
        #expect(back.previousOffsetSeconds == 0)
        #expect(back.now == HongKongTime.iso8601(rig.clock.now().addingTimeInterval(-3600)))
        #expect(try await lane.status().now == back.now, "status reads the stepped clock")

        try await lane.call(.arrive(vrn: "AB1234"))
        let entries = try await lane.journal()
        let step = try #require(entries.last { $0.kind == "clock_stepped" })
        #expect(step.detail.contains("from_offset_s=0"), "\(step.detail)")
        #expect(step.detail.contains("to_offset_s=-3600"), "\(step.detail)")
        #expect(step.detail.contains("step_s=-3600"), "\(step.detail)")
        let opened = try #require(entries.last { $0.kind == "lane_opened" })
        let arrival = try #require(entries.last { $0.kind == "arrival" })
        // Journal times are to the millisecond: compare their whole seconds.
        #expect(
            opened.at.prefix(19) == HongKongTime.iso8601(rig.clock.now()).prefix(19), "before: the old time")
        #expect(step.at.prefix(19) == back.now.prefix(19), "from the step on: the new time")
        #expect(arrival.at.prefix(19) == back.now.prefix(19))
        #expect(opened.seq < step.seq && step.seq < arrival.seq)

        // Forward past the old time, then undone.
        let ahead = try await lane.call(.clock(offsetSeconds: 7200), ControlClockResult.self)
        #expect(ahead.previousOffsetSeconds == -3600)
        #expect(ahead.now == HongKongTime.iso8601(rig.clock.now().addingTimeInterval(7200)))
        let undone = try await lane.call(.clock(offsetSeconds: 0), ControlClockResult.self)
        #expect(undone.now == HongKongTime.iso8601(rig.clock.now()))
        #expect(try await lane.journalKinds().filter { $0 == "clock_stepped" }.count == 3)
        await lane.stop()
    }

    @Test func aStepIsAVirtualInputAndOutOfRangeOffsetsAreRefused() async throws {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane(allowVirtualInputs: false)
        let refused = try #require(try await lane.refusal(.clock(offsetSeconds: 60)))
        #expect(refused.known == .notAllowed)
        #expect(refused.message.contains("'clock' refused"), "\(refused.message)")
        #expect(refused.message.contains("control.allow_virtual_inputs: true"), "\(refused.message)")
        // Reading it is no input.
        let read = try await lane.call(.clock(), ControlClockResult.self)
        #expect(read.offsetSeconds == 0)
        #expect(try await !lane.journalKinds().contains("clock_stepped"))
        await lane.stop()

        let open = try await rig.startLane()
        let reply = try await ControlClient.exchange(
            open.socket, Array(#"{"id":1,"command":"clock","offset_seconds":604801}"#.utf8 + [10]))
        guard case .refused(_, let failure) = ControlResponse.read(reply) else {
            Issue.record("an offset beyond 7 days was taken: \(String(decoding: reply, as: UTF8.self))")
            return
        }
        #expect(failure.known == .badRequest)
        #expect(failure.message.contains("offset_seconds"), "\(failure.message)")
        #expect(try await open.call(.clock(), ControlClockResult.self).offsetSeconds == 0)
        await open.stop()
    }

    /// Central decides with the arrival time the lane sends, without
    /// refusing the link or the request: a lane an hour behind sends a truck
    /// 31 minutes past its earliest crossing to inspection as early; one an
    /// hour ahead clears it all the same (and would clear one up to an hour
    /// early). The crossing at central carries the lane's time.
    @Test(
        arguments: [(-3600, "INSPECT", "EARLY_CROSSING"), (3600, "CLEARED", "BUNDLE_OK")]
            as [(Int64, String, String)])
    func centralDecidesByTheLanesArrivalTime(step: Int64, instruction: String, reason: String) async throws {
        let rig = try await LaneRig()
        let truck = try VRN("HR1234")
        try await rig.bundle(truck)
        // A session that stays up: a new hello an hour ahead would be refused
        // (docs/laned.md, "Clock steps"), which is not what this test is about.
        let lane = try await rig.startLane(deadAfter: "60s")
        try await lane.waitFor("the link up") { $0.link == "up" }
        try await lane.call(.open(officer: "chan"))
        try await lane.call(.clock(offsetSeconds: step), ControlClockResult.self)
        try await lane.call(.arrive(vrn: truck.value))
        let shown = try await lane.waitFor("central's decision") { $0.phase == "decided" && $0.drawn }
        #expect(shown.xdb == instruction)
        #expect(shown.reason == reason)
        #expect(shown.link == "up", "central kept the link")
        let crossing = try #require(try await rig.crossings(truck).first)
        #expect(
            Int64(crossing.arrivedAt.timeIntervalSince(rig.clock.now()).rounded()) == step,
            "central stored the lane's arrival time: \(crossing.arrivedAt) against \(rig.clock.now())")
        await lane.stop()
    }

    /// A forward step undone: central refused the hellos sent during it (too
    /// far ahead of its clock), and the lane links again as soon as the step
    /// is undone, not an hour later when real time would catch up with the
    /// counters it sent. The session restarts every second or so here
    /// (`dead_after: 1s`), so the lane says hello many times meanwhile.
    @Test func aLaneLinksAgainAsSoonAsAForwardStepIsUndone() async throws {
        let rig = try await LaneRig()
        let lane = try await rig.startLane()
        try await lane.waitFor("the link up") { $0.link == "up" }
        try await lane.call(.clock(offsetSeconds: 3600), ControlClockResult.self)
        try await eventually("central refused hellos from an hour ahead") {
            (rig.linkCounters()?.helloAhead ?? 0) >= 3
        }
        try await lane.call(.clock(offsetSeconds: 0), ControlClockResult.self)
        let refusedBefore = rig.linkCounters()?.helloAhead ?? 0
        try await lane.waitFor("the link up again") { $0.link == "up" }
        #expect(
            (rig.linkCounters()?.helloAhead ?? 0) - refusedBefore <= 3,
            "at most one made before the undo, one counting from the highest, then one from the last accepted"
        )
        #expect(rig.linkCounters()?.helloReplays == 0, "no hello was taken for a replay")
        await lane.stop()
    }

    /// Rule 4 on the host's monotonic clock, as laned runs it: the clock
    /// stepped back an hour while a truck waits for central must neither
    /// stall the timeout for the hour nor fire it early; stepped forward an
    /// hour, likewise.
    @Test(arguments: [-3600, 3600] as [Int64])
    func theDecisionTimeoutFiresOnTimeWhateverTheStep(step: Int64) async throws {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane(timers: SystemTimerScheduler())
        try await lane.call(.open(officer: "chan"))
        let arrived = ContinuousClock.now
        try await lane.call(.arrive(vrn: "AB1234"))
        try await lane.call(.clock(offsetSeconds: step), ControlClockResult.self)

        // The config's timeout is 2 s; a stalled timer would wait an hour.
        let unavailable = try await lane.waitFor("rule 4", timeout: .seconds(60)) {
            $0.phase == "system_unavailable"
        }
        let elapsed = ContinuousClock.now - arrived
        #expect(unavailable.reason == "SYSTEM_UNAVAILABLE")
        #expect(elapsed >= .milliseconds(1900), "the timeout fired early: after \(elapsed)")
        let timeout = try #require(try await lane.journal().last { $0.kind == "decision_timeout" })
        #expect(timeout.detail.contains("after_ms=2000"), "\(timeout.detail)")
        await lane.stop()
    }
}
