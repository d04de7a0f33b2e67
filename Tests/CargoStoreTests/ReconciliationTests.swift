import ClearanceCore
import Foundation
import GRDB
import RoadCargo
import Testing

@testable import CargoStore

@Suite("Offline crossings reconciled at central")
struct ReconciliationTests {
    static let lane = Fixture.inboundLane
    static let otherLane = Lane(id: try! LaneID("LMC-IN-02"), controlPoint: .lokMaChau, direction: .inbound)
    /// An hour after bundling: past the earliest crossing.
    static let arrival = Fixture.t0.addingTimeInterval(3600)

    func bundled(_ store: any CargoRepository, vrn: VRN = Fixture.vrn) async throws -> CargoBundle {
        let c = try await store.submitConsignment(Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        return try await store.createBundle(
            Fixture.bundleRequest([c.ccrn], vrn: vrn), by: Fixture.driver, at: Fixture.t0)
    }

    static func claimant(_ lane: Lane, _ passage: UInt64) -> String { "passage:\(lane.id):\(passage)" }

    static func report(
        _ request: UInt64, passage: UInt64? = nil, vrn: VRN = Fixture.vrn, ubr: UBR?,
        at arrival: Date = arrival
    ) -> OfflineCrossing {
        let decision =
            ubr.map { Decision(instruction: .cleared, reason: .bundleOK, notes: [.offline], ubr: $0) }
            ?? Decision(instruction: .inspect, reason: .noBundle, notes: [.offline])
        return OfflineCrossing(
            passageID: passage ?? request, requestID: request, vrn: vrn, arrivedAt: arrival,
            unladenPressed: false, decidedAt: arrival.addingTimeInterval(2), decision: decision,
            cacheVersion: CacheVersion(generation: 7, sequence: 3))
    }

    func apply(
        _ store: any CargoRepository, _ report: OfflineCrossing, lane: Lane = lane, receivedAt: Date? = nil
    ) async throws
        -> OfflineCrossingRecord
    {
        try await store.applyOfflineCrossing(
            report, lane: lane, claimant: Self.claimant(lane, report.passageID),
            receivedAt: receivedAt ?? Self.arrival.addingTimeInterval(600))
    }

    @Test(
        "an offline crossing on an active bundle claims it; the passage's leaving then uses it",
        arguments: StoreBackend.all)
    func appliedThenUsed(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store)
        let record = try await apply(store, Self.report(5, passage: 4, ubr: b.ubr))
        #expect(record.outcome == .applied)
        #expect(record.conflict == nil)
        #expect(record.cacheVersion == CacheVersion(generation: 7, sequence: 3))
        #expect(record.passageID == 4 && record.requestID == 5)
        #expect(try await store.bundle(b.ubr)?.status == .claimed)
        // An online lane finds no bundle for the VRN now.
        let elsewhere = try await store.decideCrossing(
            requestID: "link:LMC-IN-02:1", claimant: Self.claimant(Self.otherLane, 1),
            request: Fixture.request(lane: Self.otherLane, at: Self.arrival.addingTimeInterval(60)),
            policy: Fixture.policy, at: Self.arrival.addingTimeInterval(60))
        #expect(elsewhere.decision.reason == .noBundle)

        let left = try await store.recordVehicleLeft(
            lane: Self.lane.id, claimant: Self.claimant(Self.lane, 4), ubr: b.ubr,
            at: Self.arrival.addingTimeInterval(700))
        #expect(left == .used)
        #expect(try await store.bundle(b.ubr)?.status == .used)
        #expect(try await store.consignment(b.ccrns[0])?.status == .spent)

        // The crossing history shows the offline decision.
        let history = try await store.searchCrossings(.vrn(Fixture.vrn), limit: 10)
        let offline = try #require(history.first { $0.requestID == "offline:LMC-IN-03:5" })
        #expect(offline.crossing.decision.notes == [.offline])
        #expect(offline.crossing.decision.ubr == b.ubr)
        #expect(offline.ccrns == b.ccrns)
        #expect(offline.crossing.decidedAt == Self.arrival.addingTimeInterval(2))
    }

    @Test(
        "a leaving reported before the crossing reached central: the crossing uses the bundle at once",
        arguments: StoreBackend.all)
    func leavingFirst(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store)
        _ = try await store.recordLaneEvent(
            LaneEventRecord(
                lane: Self.lane.id, occurredAt: Self.arrival.addingTimeInterval(30), kind: "vehicle_left",
                fields: ["vrn": Fixture.vrn.value, "ubr": b.ubr.value, "passage": "8"],
                receivedAt: Self.arrival.addingTimeInterval(31)))
        #expect(
            try await store.recordVehicleLeft(
                lane: Self.lane.id, claimant: Self.claimant(Self.lane, 8), ubr: b.ubr,
                at: Self.arrival.addingTimeInterval(31)) != .used)
        let record = try await apply(store, Self.report(8, ubr: b.ubr))
        #expect(record.outcome == .applied)
        #expect(try await store.bundle(b.ubr)?.status == .used)
        #expect(try await store.consignment(b.ccrns[0])?.status == .spent)
    }

    @Test("a bundle this passage already claimed online counts as applied", arguments: StoreBackend.all)
    func ownClaim(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store)
        _ = try await store.decideCrossing(
            requestID: "link:LMC-IN-03:3", claimant: Self.claimant(Self.lane, 3),
            request: Fixture.request(at: Self.arrival), policy: Fixture.policy, at: Self.arrival)
        let record = try await apply(store, Self.report(6, passage: 3, ubr: b.ubr))
        #expect(record.outcome == .applied)
        #expect(try await store.bundle(b.ubr)?.status == .claimed)
    }

    @Test("a decision on no bundle is no_bundle and changes no bundle", arguments: StoreBackend.all)
    func noBundle(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store)
        let record = try await apply(store, Self.report(9, ubr: nil))
        #expect(record.outcome == .noBundle)
        #expect(record.conflict == nil)
        #expect(try await store.bundle(b.ubr)?.status == .active)
        #expect(try await store.offlineCrossings(OfflineCrossingFilter(), limit: 10).isEmpty)
    }

    /// Each way a bundle can be out of this passage's reach, with the words
    /// the officer reads.
    @Test(
        "conflicts: used, debundled, claimed by another passage, unknown, another VRN, another direction",
        arguments: StoreBackend.all)
    func conflicts(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let used = try await bundled(store, vrn: try VRN("USED1"))
        _ = try await store.decideCrossing(
            requestID: "u", claimant: Self.claimant(Self.otherLane, 77),
            request: Fixture.request(lane: Self.otherLane, vrn: used.vrn, at: Self.arrival),
            policy: Fixture.policy, at: Self.arrival)
        _ = try await store.recordVehicleLeft(
            lane: Self.otherLane.id, claimant: Self.claimant(Self.otherLane, 77), ubr: used.ubr,
            at: Self.arrival.addingTimeInterval(61))
        let debundled = try await bundled(store, vrn: try VRN("GONE1"))
        _ = try await store.debundle(
            debundled.ubr, by: Fixture.driver, at: Fixture.t0.addingTimeInterval(120))
        let claimed = try await bundled(store, vrn: try VRN("HELD1"))
        _ = try await store.decideCrossing(
            requestID: "c", claimant: Self.claimant(Self.otherLane, 78),
            request: Fixture.request(lane: Self.otherLane, vrn: claimed.vrn, at: Self.arrival),
            policy: Fixture.policy, at: Self.arrival)
        let mine = try await bundled(store, vrn: try VRN("MINE1"))

        let cases: [(OfflineCrossing, Lane, String)] = [
            (
                Self.report(1, vrn: used.vrn, ubr: used.ubr), Self.lane,
                "UBR \(used.ubr) was already used by passage passage:LMC-IN-02:77 at lane LMC-IN-02 at 2009-10-24 23:57:45 (HKT)"
            ),
            (
                Self.report(2, vrn: debundled.vrn, ubr: debundled.ubr), Self.lane,
                "UBR \(debundled.ubr) was debundled at 2009-10-24 22:58:44 (HKT)"
            ),
            (
                Self.report(3, vrn: claimed.vrn, ubr: claimed.ubr), Self.lane,
                "UBR \(claimed.ubr) is claimed by passage passage:LMC-IN-02:78 at lane LMC-IN-02 since 2009-10-24 23:56:44 (HKT)"
            ),
            (
                Self.report(4, ubr: UBR(payload: 424_242)), Self.lane,
                "UBR \(UBR(payload: 424_242)) is not known at central"
            ),
            (
                Self.report(5, vrn: try VRN("OTHER1"), ubr: mine.ubr), Self.lane,
                "UBR \(mine.ubr) is for VRN MINE1, not OTHER1"
            ),
            (
                Self.report(6, vrn: mine.vrn, ubr: mine.ubr), Fixture.outboundLane,
                "UBR \(mine.ubr) is for import, but lane LMC-OUT-01 is export"
            ),
        ]
        for (report, lane, why) in cases {
            let record = try await apply(store, report, lane: lane)
            #expect(record.outcome == .conflict, "\(why)")
            #expect(record.conflict == why)
            #expect(record.isOpenConflict)
        }
        // Nothing moved: each bundle is as it was.
        #expect(try await store.bundle(used.ubr)?.status == .used)
        #expect(try await store.bundle(debundled.ubr)?.status == .debundled)
        #expect(try await store.bundle(claimed.ubr)?.status == .claimed)
        #expect(try await store.bundle(mine.ubr)?.status == .active)
        let open = try await store.offlineCrossings(OfflineCrossingFilter(), limit: 100)
        #expect(open.map(\.requestID) == [6, 5, 4, 3, 2, 1])
        // The unknown UBR still shows in the VRN's history, without a bundle.
        let history = try await store.searchCrossings(.vrn(Fixture.vrn), limit: 10)
        #expect(history.map(\.requestID) == ["offline:LMC-IN-03:4"])
        #expect(history.first?.crossing.decision.ubr == UBR(payload: 424_242))
    }

    @Test(
        "a resend returns the first record and changes nothing, even after the bundle moved on",
        arguments: StoreBackend.all)
    func resendIsIdempotent(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store)
        let first = try await apply(store, Self.report(5, ubr: b.ubr))
        _ = try await store.recordVehicleLeft(
            lane: Self.lane.id, claimant: Self.claimant(Self.lane, 5), ubr: b.ubr,
            at: Self.arrival.addingTimeInterval(700))
        let before = try await snapshot(store)
        let again = try await apply(
            store,
            Self.report(5, ubr: b.ubr), receivedAt: Self.arrival.addingTimeInterval(900))
        #expect(again == first)
        #expect(again.outcome == .applied)
        #expect(try await snapshot(store) == before)
        // Another lane's request 5 is another crossing.
        let other = try await apply(store, Self.report(5, ubr: b.ubr), lane: Self.otherLane)
        #expect(other.id != first.id)
        #expect(other.outcome == .conflict)
    }

    @Test(
        "a conflict stays open until acknowledged, and stays listed after; acknowledging twice is refused",
        arguments: StoreBackend.all)
    func acknowledge(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store)
        _ = try await store.debundle(b.ubr, by: Fixture.driver, at: Fixture.t0.addingTimeInterval(60))
        let conflict = try await apply(store, Self.report(5, ubr: b.ubr))
        let applied = try await apply(store, Self.report(6, ubr: nil))
        #expect(try await store.offlineCrossings(OfflineCrossingFilter(), limit: 10) == [conflict])
        let counts = try await store.offlineCrossingCounts()
        #expect(
            counts[Self.lane.id]
                == OfflineCrossingCounts(received: 2, applied: 0, noBundle: 1, conflicts: 1, openConflicts: 1)
        )

        let at = Self.arrival.addingTimeInterval(3600)
        let acked = try await store.acknowledgeConflict(
            id: conflict.id, officer: "officer-chan", at: at, note: "driver re-bundled; fined")
        #expect(acked.acknowledgedBy == "officer-chan")
        #expect(acked.acknowledgedAt == at)
        #expect(acked.acknowledgedNote == "driver re-bundled; fined")
        #expect(acked.conflict == conflict.conflict)
        #expect(!acked.isOpenConflict)
        #expect(try await store.offlineCrossings(OfflineCrossingFilter(), limit: 10).isEmpty)
        let all = try await store.offlineCrossings(OfflineCrossingFilter(openConflictsOnly: false), limit: 10)
        #expect(all.map(\.id) == [applied.id, conflict.id])
        #expect(try await store.offlineCrossingCounts()[Self.lane.id]?.openConflicts == 0)

        let before = try await snapshot(store)
        await #expect {
            _ = try await store.acknowledgeConflict(
                id: conflict.id, officer: "officer-wong", at: at, note: nil)
        } throws: { error in
            "\(error)".contains("already acknowledged by officer-chan at 2009-10-25 00:56:44 (HKT)")
        }
        await #expect {
            _ = try await store.acknowledgeConflict(
                id: applied.id, officer: "officer-wong", at: at, note: nil)
        } throws: { error in
            "\(error)".contains("only conflicts are acknowledged")
        }
        await #expect(throws: StoreError.notFound("offline crossing 999")) {
            _ = try await store.acknowledgeConflict(id: 999, officer: "officer-wong", at: at, note: nil)
        }
        #expect(try await snapshot(store) == before)
    }

    @Test("the per-lane counts (every console snapshot) read one index and no row")
    func countsReadTheIndexOnly() async throws {
        let store = try SQLiteCargoStore.inMemory()
        let plan = try await store.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteCargoStore.offlineCountsSQL)
                .map { $0["detail"] as String }
        }
        #expect(plan == ["SCAN offline_crossings USING COVERING INDEX offline_crossings_counts"])
    }

    @Test("listing filters by lane and is newest first within the limit", arguments: StoreBackend.all)
    func listing(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        for n in UInt64(1)...4 { _ = try await apply(store, Self.report(n, ubr: nil)) }
        _ = try await apply(store, Self.report(1, ubr: nil), lane: Self.otherLane)
        let all = OfflineCrossingFilter(openConflictsOnly: false)
        #expect(try await store.offlineCrossings(all, limit: 3).map(\.requestID) == [1, 4, 3])
        let one = OfflineCrossingFilter(lane: Self.lane.id, openConflictsOnly: false)
        #expect(try await store.offlineCrossings(one, limit: 10).map(\.requestID) == [4, 3, 2, 1])
        #expect(try await store.offlineCrossingCounts()[Self.otherLane.id]?.received == 1)
    }
}
