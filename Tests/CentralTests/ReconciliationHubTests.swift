import CargoStore
import Central
import ClearanceCore
import Foundation
import LinkCore
import Logging
import RoadCargo
import Testing

/// LaneHub with offline crossings: a decision a lane made offline reaches
/// the bundles once, and what conflicts is kept for officers.
@Suite struct ReconciliationHubTests {
    static let lane = try! LaneID("LMC-IN-01")
    static let other = try! LaneID("LMC-IN-02")

    func hub(_ h: Harness) -> LaneHub {
        var logger = Logger(label: "ReconciliationHubTests")
        logger.logLevel = .critical
        return LaneHub(repository: h.store, clock: h.clock, policy: h.central.policy, logger: logger)
    }

    func bundle(_ h: Harness, vrn: String) async throws -> CargoBundle {
        let c = try await h.store.submitConsignment(
            try SubmissionBodyFixture.submission(h), by: Account(name: "shipper", role: .shipper),
            at: h.clock.now())
        return try await h.store.createBundle(
            BundleRequest(driverName: "Ho Kin", vrn: try VRN(vrn), direction: .inbound, ccrns: [c.ccrn]),
            by: Account(name: "driver", role: .driver), at: h.clock.now())
    }

    static func crossing(_ request: UInt64, passage: UInt64, vrn: VRN, ubr: UBR, at: Date)
        -> OfflineCrossing
    {
        OfflineCrossing(
            passageID: passage, requestID: request, vrn: vrn, arrivedAt: at, unladenPressed: false,
            decidedAt: at.addingTimeInterval(1),
            decision: Decision(instruction: .cleared, reason: .bundleOK, notes: [.offline], ubr: ubr),
            cacheVersion: CacheVersion(generation: 3, sequence: 0))
    }

    /// The case: cleared offline, left, then the same truck at an
    /// online lane: NO_BUNDLE, and central shows the bundle used.
    @Test func offlineCrossingThenLeavingUsesTheBundle() async throws {
        let h = try await Harness()
        try await h.store.putLane(Lane(id: Self.other, controlPoint: .lokMaChau, direction: .inbound))
        let hub = hub(h)
        let b = try await bundle(h, vrn: "VRN0912")
        let arrived = h.clock.advance(by: 3600)

        let replies = try await hub.handle(
            lane: Self.lane,
            message: .offlineCrossing(Self.crossing(12, passage: 11, vrn: b.vrn, ubr: b.ubr, at: arrived)))
        #expect(replies == [])
        #expect(try await h.store.bundle(b.ubr)?.status == .claimed)
        _ = try await hub.handle(
            lane: Self.lane,
            message: .laneEvent(
                LaneEvent(
                    occurredAt: arrived.addingTimeInterval(20),
                    .vehicleLeft(vrn: b.vrn, ubr: b.ubr, passageID: 11))))
        #expect(try await h.store.bundle(b.ubr)?.status == .used)
        for ccrn in b.ccrns { #expect(try await h.store.consignment(ccrn)?.status == .spent) }

        let later = h.clock.advance(by: 300)
        let online = try await hub.decide(
            lane: Self.other,
            request: DecisionRequestMessage(
                requestID: 1, passageID: 1, lane: Self.other, vrn: b.vrn, arrivedAt: later,
                unladenPressed: false))
        #expect(online.decision.instruction == .inspect)
        #expect(online.decision.reason == .noBundle)

        let all = try await h.store.offlineCrossings(
            OfflineCrossingFilter(openConflictsOnly: false), limit: 10)
        #expect(all.map(\.outcome) == [.applied])
        #expect(hub.counts.offlineCrossings == 1)
        #expect(hub.counts.reconciliationConflicts == 0)
    }

    /// The same bundle cleared offline at two lanes: the second is a
    /// conflict naming the first passage; a resend of either changes nothing.
    @Test func aBundleUsedOfflineAtTwoLanesIsRaised() async throws {
        let h = try await Harness()
        try await h.store.putLane(Lane(id: Self.other, controlPoint: .lokMaChau, direction: .inbound))
        let hub = hub(h)
        let b = try await bundle(h, vrn: "VRN0912")
        let arrived = h.clock.advance(by: 3600)
        let first = Self.crossing(5, passage: 5, vrn: b.vrn, ubr: b.ubr, at: arrived)
        let second = Self.crossing(9, passage: 9, vrn: b.vrn, ubr: b.ubr, at: arrived)
        _ = try await hub.handle(lane: Self.lane, message: .offlineCrossing(first))
        _ = try await hub.handle(lane: Self.other, message: .offlineCrossing(second))
        _ = try await hub.handle(lane: Self.other, message: .offlineCrossing(second))
        _ = try await hub.handle(lane: Self.lane, message: .offlineCrossing(first))

        let open = try await h.store.offlineCrossings(OfflineCrossingFilter(), limit: 10)
        #expect(open.count == 1)
        #expect(open.first?.lane == Self.other)
        #expect(
            open.first?.conflict?.contains("claimed by passage passage:LMC-IN-01:5 at lane LMC-IN-01") == true
        )
        #expect(try await h.store.offlineCrossingCounts()[Self.lane]?.received == 1)
        #expect(hub.counts.reconciliationConflicts == 2)
    }

    /// A crossing from a lane central does not know stays in the lane's
    /// outbox (the hub throws, so the link does not mark it applied).
    @Test func anUnknownLanesCrossingIsNotDropped() async throws {
        let h = try await Harness()
        let hub = hub(h)
        let b = try await bundle(h, vrn: "VRN0912")
        let unknown = try LaneID("NOPE-1")
        await #expect(throws: LaneHubRefusal.unknownLane(unknown)) {
            _ = try await hub.handle(
                lane: unknown,
                message: .offlineCrossing(
                    Self.crossing(1, passage: 1, vrn: b.vrn, ubr: b.ubr, at: h.clock.now())))
        }
        #expect(try await h.store.bundle(b.ubr)?.status == .active)
    }
}
