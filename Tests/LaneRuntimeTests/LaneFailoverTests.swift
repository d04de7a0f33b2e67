import Foundation
import LaneConfig
import LaneControl
import LaneLink
import LaneRuntime
import RoadCargo
import TestKit
import Testing

/// A whole lane whose config lists two central nodes (`link.tcp.endpoints`),
/// each a `CentralAssembly` with its own link listener over one store, as
/// several clearanced run on one database.
@Suite struct LaneFailoverTests {
    @Test func theConfigAllowsNoMoreEndpointsThanTheLinkClientTakes() {
        // The client traps on more; the config must refuse them first.
        #expect(LaneConfiguration.TCPEndpoint.maxCount == LaneLinkClient.Line.maxEndpoints)
    }

    /// The journal's decisions for `vrn` against central's crossings: one
    /// crossing, and the lane received exactly that decision.
    func expectOneCrossing(
        _ vrn: VRN, rig: LaneRig, lane: RunningLane, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let crossings = try await rig.crossings(vrn)
        #expect(crossings.count == 1, "\(vrn): \(crossings.count) crossings", sourceLocation: sourceLocation)
        // A truck that arrives once the lane knows the link is down gets
        // rule 4 at once, and the answer that comes later is taken late.
        let received = try await lane.journal().filter {
            $0.vrn == vrn.value
                && ($0.kind == "decision_received"
                    || ($0.kind == "decision_late" && $0.detail.contains("taken now")))
        }
        #expect(
            received.map(\.decisionID) == crossings.map { UInt64($0.id) },
            "\(vrn): the lane journaled \(received.map(\.decisionID)), central crossed \(crossings.map(\.id))",
            sourceLocation: sourceLocation)
    }

    @Test func whenItsNodeDiesTheLaneLinksToTheOtherWithinSecondsAndNothingIsLostOrTwice() async throws {
        let rig = try await LaneRig(nodes: 2)
        let trucks = try ["AB1234", "CD5678", "EF9012"].map { try VRN($0) }
        for truck in trucks { try await rig.bundle(truck) }
        // The default dead_after, as the test has it.
        let lane = try await rig.startLane(deadAfter: "3s")
        let first = try await lane.waitFor("linked") { $0.link == "up" }
        #expect(first.central == rig.endpoint(ofNode: 0), "the first endpoint is tried first")
        // Central registers the session a moment after the lane sees it up.
        try await eventually("node 0 holds the lane") { rig.isLinked(toNode: 0) }
        #expect(!rig.isLinked(toNode: 1))

        try await lane.call(.open(officer: "chan"))
        try await lane.call(.arrive(vrn: trucks[0].value))
        try await lane.waitFor("decided by node 0") { $0.phase == "decided" }
        try await lane.call(.leave)

        // Node 0 dies as a crash would; a truck arrives at once.
        await rig.stopCentral(node: 0)
        try await lane.call(.arrive(vrn: trucks[1].value))
        let moved = try await lane.waitFor("linked to node 1") {
            $0.link == "up" && $0.central == rig.endpoint(ofNode: 1)
        }
        // How fast (the 5 s) is measured with real processes by
        // scripts/failover-test.py; here a stalled test machine would make
        // a time limit fail for nothing the lane did.
        try await eventually("node 1 holds the lane") { rig.isLinked(toNode: 1) }
        // The request waited in the outbox and node 1 answered it.
        try await lane.waitFor("decided by node 1") { $0.phase == "decided" }
        try await lane.waitFor("the outbox drained") { $0.outboxPending == 0 }
        #expect(moved.central == rig.endpoint(ofNode: 1))
        try await lane.call(.leave)

        // Node 0 comes back: the lane stays where it works.
        try await rig.startCentral(node: 0)
        try await lane.call(.arrive(vrn: trucks[2].value))
        try await lane.waitFor("decided") { $0.phase == "decided" }
        try await lane.waitFor("the outbox drained") { $0.outboxPending == 0 }
        let stayed = try await lane.status()
        #expect(stayed.central == rig.endpoint(ofNode: 1))
        #expect(rig.isLinked(toNode: 1) && !rig.isLinked(toNode: 0))

        for truck in trucks { try await expectOneCrossing(truck, rig: rig, lane: lane) }
        await lane.stop()
        await rig.stopCentral(node: 0)
        await rig.stopCentral(node: 1)
    }
}
