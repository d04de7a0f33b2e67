import Foundation
import LaneControl
import LaneRuntime
import RoadCargo
import TestKit
import Testing

/// `arrive` with `wait_ms`: one request from arrival to the decision on both
/// boards, as a technician's `lanectl arrive --wait` and the benchmark use it.
@Suite struct ArriveWaitTests {
    @Test func aBundledTrucksDecisionComesBackWithItsArrival() async throws {
        let rig = try await LaneRig()
        try await rig.bundle(try VRN("AW1234"))
        let lane = try await rig.startLane(deadAfter: "60s")
        try await lane.waitFor("the link up") { $0.link == "up" }
        try await lane.call(.open())

        let arrived = try await lane.call(
            .arrive(vrn: "aw 1234", waitMilliseconds: 60_000), ControlArriveResult.self)
        #expect(arrived.vrn == "AW1234")
        #expect(arrived.shown == .init(xdb: "CLEARED", aiop: "CLEARED", reason: "BUNDLE_OK"))
        // By the reply, the boards already show it: no polling needed.
        let status = try await lane.status()
        #expect(status.phase == "decided" && status.drawn && status.xdb == "CLEARED")
        await lane.stop()
        await rig.stopCentral()
    }

    @Test func ruleFoursStopIsWhatComesBackWhenCentralNeverAnswers() async throws {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane()
        try await lane.call(.open())

        // Nothing is decided (the decision timeout is on the rig's clock, which
        // stands still): the wait runs out and says so, the vehicle stays.
        let early = try await lane.call(.arrive(vrn: "AW5678", waitMilliseconds: 1), ControlArriveResult.self)
        #expect(early.shown == nil)
        #expect(try await lane.status().phase == "stop")
        try await lane.call(.leave)

        let waiting = Task {
            try await lane.call(.arrive(vrn: "AW9999", waitMilliseconds: 60_000), ControlArriveResult.self)
        }
        try await eventually("the second truck's decision timeout running") {
            let status = try await lane.status()
            return status.vrn == "AW9999" && rig.timers.deadlines[.decisionTimeout] != nil
        }
        await rig.timers.advance(by: 2.5)
        let arrived = try await waiting.value
        #expect(arrived.shown == .init(xdb: "STOP", aiop: "DROP_MANIFEST", reason: "SYSTEM_UNAVAILABLE"))
        await lane.stop()
    }
}
