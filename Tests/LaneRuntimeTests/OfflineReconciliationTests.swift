import CargoStore
import Foundation
import LaneControl
import LaneJournal
import LaneRuntime
import LinkCore
import RoadCargo
import Testing

/// laned's status counts the offline crossings central has not yet
/// acknowledged, and central reconciles them once the link is back.
@Suite struct OfflineReconciliationTests {
    static let truck = try! VRN("AB1234")

    @Test func anOfflineCrossingWaitsInTheOutboxUntilCentralHasReconciledIt() async throws {
        let rig = try await LaneRig(centralUp: false)
        let bundle = try await rig.bundle(Self.truck)
        let lane = try await rig.startLane()
        try await lane.daemon.journal.replaceCache(
            generation: 1,
            bundles: [
                OfflineBundle(
                    ubr: bundle.ubr, vrn: Self.truck, direction: .inbound,
                    earliestCrossing: bundle.earliestCrossing, status: .active,
                    ccrns: bundle.ccrns.map {
                        .init(ccrn: $0, validUntil: CalendarDay(containing: rig.clock.now()).advanced(by: 2))
                    })
            ], watchList: [])
        #expect(try await lane.status().offlineUnreconciled == 0)
        try await lane.call(.open())
        try await lane.daemon.controller.received(.officerCommand(.offlineMode(on: true, officer: "chan")))
        try await lane.call(.arrive(vrn: "AB1234"))
        let shown = try await lane.waitFor("the offline decision") { $0.phase == "decided" }
        #expect(shown.xdb == "CLEARED")
        #expect(shown.offlineUnreconciled == 1)
        try await lane.call(.leave)
        #expect(try await lane.status().offlineUnreconciled == 1)
        // Central still holds the bundle as active: it has heard nothing.
        #expect(try await rig.store.bundle(bundle.ubr)?.status == .active)

        try await rig.startCentral()
        try await lane.waitFor("central reconciled the crossing") {
            $0.offlineUnreconciled == 0 && $0.outboxPending == 0
        }
        let reconciled = try await rig.store.offlineCrossings(
            OfflineCrossingFilter(openConflictsOnly: false), limit: 10)
        #expect(reconciled.map(\.outcome) == [.applied])
        #expect(reconciled.first?.decision.ubr == bundle.ubr)
        #expect(try await rig.store.bundle(bundle.ubr)?.status == .used)
        for ccrn in bundle.ccrns { #expect(try await rig.store.consignment(ccrn)?.status == .spent) }
        await lane.stop()
        await rig.stopCentral()
    }

    @Test func theCountedTopicIsTheOfflineCrossingsName() {
        let message = LaneMessage.offlineCrossing(
            OfflineCrossing(
                passageID: 1, requestID: 1, vrn: Self.truck, arrivedAt: Date(timeIntervalSince1970: 0),
                unladenPressed: false, decidedAt: Date(timeIntervalSince1970: 0),
                decision: Decision(instruction: .inspect, reason: .noBundle), cacheVersion: nil))
        #expect(LaneController.offlineCrossingTopic == message.name)
    }
}
