import ClearanceCore
import Foundation
import RoadCargo
import Testing

@testable import CargoStore

@Suite("Decisions and crossings through the store")
struct CrossingTests {

    func bundled(_ store: any CargoRepository, consignee: String = "Wilson Development Ltd") async throws
        -> CargoBundle
    {
        let c = try await store.submitConsignment(
            Fixture.submission(consignee: consignee), by: Fixture.shipper, at: Fixture.t0)
        return try await store.createBundle(
            Fixture.bundleRequest([c.ccrn]), by: Fixture.driver, at: Fixture.t0)
    }

    func decide(_ store: any CargoRepository, _ request: DecisionRequest) async throws -> Decision {
        DecisionCore.decide(try await store.decisionCase(for: request), policy: Fixture.policy)
    }

    @Test("29 min 59 s after bundling: EARLY_CROSSING; 30 min 0 s: CLEARED", arguments: StoreBackend.all)
    func thirtyMinutes(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store)
        let early = try await decide(store, Fixture.request(at: Fixture.t0.addingTimeInterval(29 * 60 + 59)))
        #expect(early.instruction == .inspect)
        #expect(early.reason == .earlyCrossing)
        let onTime = try await decide(store, Fixture.request(at: Fixture.t0.addingTimeInterval(30 * 60)))
        #expect(onTime.instruction == .cleared)
        #expect(onTime.reason == .bundleOK)
        #expect(onTime.ubr == b.ubr)
        let wrongWay = try await decide(
            store,
            Fixture.request(lane: Fixture.outboundLane, at: Fixture.t0.addingTimeInterval(3600)))
        #expect(wrongWay.reason == .noBundle)
    }

    @Test(
        "a watched VRN, CCRN or consignee each makes the case TARGETED, and only that one entry",
        arguments: StoreBackend.all)
    func eachKindOfWatchEntryMatches(_ backend: StoreBackend) async throws {
        let request = Fixture.request(at: Fixture.t0.addingTimeInterval(3600))
        for kind in ["vrn", "ccrn", "consignee"] {
            let store = try await backend.makeStore()
            let b = try await bundled(store, consignee: "Kwun  tong Freight")
            let target: WatchTarget =
                switch kind {
                case "vrn": .vrn(request.vrn)
                case "ccrn": .ccrn(b.ccrns[0])
                default: .consignee("KWUN TONG FREIGHT")
                }
            // Entries for others around it, which must not match.
            for other in [WatchTarget.vrn(try VRN("ZZ9")), .ccrn(CCRN(payload: 1)), .consignee("Other Co")] {
                _ = try await store.addWatch(other, note: "other", by: Fixture.officer, at: Fixture.t0)
            }
            _ = try await store.addWatch(target, note: kind, by: Fixture.officer, at: Fixture.t0)
            let c = try await store.decisionCase(for: request)
            #expect(
                c.consignments[b.ccrns[0]]?.validUntil != nil, "\(kind): the consignment's facts are read")
            #expect(
                c.watchList.vrns.count + c.watchList.ccrns.count + c.watchList.consignees.count == 1,
                "\(kind): \(c.watchList)")
            let d = DecisionCore.decide(c, policy: Fixture.policy)
            #expect(d.instruction == .inspect && d.reason == .targeted, "\(kind)")
        }
    }

    @Test(
        "the case holds the bundle, its consignments and only matching watch entries",
        arguments: StoreBackend.all)
    func decisionCase(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store, consignee: "Wilson  development ltd")
        _ = try await store.addWatch(
            .consignee("WILSON DEVELOPMENT LTD"), note: "tip-off", by: Fixture.officer, at: Fixture.t0)
        _ = try await store.addWatch(
            .vrn(try VRN("ZZ1")), note: "other truck", by: Fixture.officer, at: Fixture.t0)
        let c = try await store.decisionCase(for: Fixture.request(at: Fixture.t0.addingTimeInterval(3600)))
        #expect(c.bundle == b)
        #expect(Set(c.consignments.keys) == Set(b.ccrns))
        #expect(c.watchList.consignees == ["WILSON DEVELOPMENT LTD"])
        #expect(c.watchList.vrns.isEmpty)
        let d = DecisionCore.decide(c, policy: Fixture.policy)
        #expect(d.reason == .targeted)
        #expect(d.ccrns == b.ccrns)
    }

    @Test("watched VRN without a bundle is found too", arguments: StoreBackend.all)
    func watchedVRN(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        _ = try await store.addWatch(.vrn(Fixture.vrn), note: "", by: Fixture.officer, at: Fixture.t0)
        let d = try await decide(store, Fixture.request(at: Fixture.t0, unladen: true))
        #expect(d.instruction == .inspect)
        #expect(d.reason == .targeted)
    }

    func cross(_ store: any CargoRepository, _ id: String, _ request: DecisionRequest, at now: Date)
        async throws -> Crossing
    {
        try await store.decideCrossing(
            requestID: id, claimant: id, request: request, policy: Fixture.policy, at: now)
    }

    @Test(
        "a laden crossing claims the bundle; deciding the same request again changes nothing; leaving uses it",
        arguments: StoreBackend.all)
    func crossingIsIdempotent(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store)
        let arrival = Fixture.t0.addingTimeInterval(3600)
        let request = Fixture.request(at: arrival)
        let first = try await cross(store, "lane-3/42", request, at: arrival.addingTimeInterval(1))
        #expect(first.decision.reason == .bundleOK)
        #expect(first.lane == Fixture.inboundLane.id)
        #expect(try await store.bundle(b.ubr)?.status == .claimed)
        #expect(try await store.consignment(b.ccrns[0])?.status == .bundled)

        let before = try await snapshot(store)
        let again = try await cross(store, "lane-3/42", request, at: arrival.addingTimeInterval(9))
        #expect(again == first)
        #expect(try await snapshot(store) == before)
        #expect(try await store.crossings(vrn: Fixture.vrn, limit: 10) == [first])

        await #expect(throws: RuleConflict.self) {
            try await cross(
                store, "lane-3/42", Fixture.request(vrn: try VRN("AB1"), at: arrival), at: arrival)
        }
        #expect(try await snapshot(store) == before)

        #expect(
            try await store.recordVehicleLeft(lane: Fixture.inboundLane.id, ubr: b.ubr, at: arrival) == .used)
        #expect(try await store.bundle(b.ubr)?.status == .used)
        #expect(try await store.consignment(b.ccrns[0])?.status == .spent)
        #expect(try await store.activeBundle(vrn: Fixture.vrn, direction: .inbound) == nil)
        #expect(
            try await store.recordVehicleLeft(lane: Fixture.inboundLane.id, ubr: b.ubr, at: arrival)
                == .alreadyUsed)
    }

    @Test(
        "INSPECT also claims the bundle; claimed or used it cannot be debundled; a spent CCRN cannot be bundled",
        arguments: StoreBackend.all)
    func inspectUsesBundle(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store)
        let arrival = Fixture.t0.addingTimeInterval(60)
        let crossing = try await cross(store, "r1", Fixture.request(at: arrival), at: arrival)
        #expect(crossing.decision.reason == .earlyCrossing)
        #expect(try await store.bundle(b.ubr)?.status == .claimed)
        do {
            _ = try await store.debundle(b.ubr, by: Fixture.driver, at: arrival)
            Issue.record("claimed bundle debundled")
        } catch let conflict as RuleConflict {
            #expect(conflict.issues.map(\.rule) == ["bundle.claimed"])
        }
        // Bundling rule 3 still holds while the bundle is claimed.
        let other = try await store.submitConsignment(
            Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        await #expect(throws: RuleConflict.self) {
            try await store.createBundle(Fixture.bundleRequest([other.ccrn]), by: Fixture.driver, at: arrival)
        }
        _ = try await store.recordVehicleLeft(lane: Fixture.inboundLane.id, ubr: b.ubr, at: arrival)
        #expect(try await store.bundle(b.ubr)?.status == .used)
        await #expect(throws: RuleConflict.self) {
            try await store.debundle(b.ubr, by: Fixture.driver, at: arrival)
        }
        do {
            _ = try await store.createBundle(Fixture.bundleRequest(b.ccrns), by: Fixture.driver, at: arrival)
            Issue.record("spent CCRN bundled")
        } catch let failure as ValidationFailure {
            #expect(failure.issues.map(\.rule) == ["bundle.ccrn-spent"])
        }
    }

    @Test(
        "a leaving reported by another lane uses nothing; a claim that lapsed becomes used",
        arguments: StoreBackend.all)
    func leavingElsewhereAndLapse(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let b = try await bundled(store)
        let arrival = Fixture.t0.addingTimeInterval(3600)
        _ = try await cross(store, "r1", Fixture.request(at: arrival), at: arrival)
        let other = try LaneID("LMC-IN-09")
        guard case .refused = try await store.recordVehicleLeft(lane: other, ubr: b.ubr, at: arrival) else {
            Issue.record("another lane's leaving used the bundle")
            return
        }
        #expect(try await store.bundle(b.ubr)?.status == .claimed)
        // Six hours on, the lane never said the vehicle left: a new bundle for
        // the VRN settles the lapsed claim into used first.
        let later = arrival.addingTimeInterval(BundleLife.claimLifetime)
        let c = try await store.submitConsignment(Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        _ = try await store.createBundle(Fixture.bundleRequest([c.ccrn]), by: Fixture.driver, at: later)
        #expect(try await store.bundle(b.ubr)?.status == .used)
        #expect(try await store.consignment(b.ccrns[0])?.status == .spent)
    }

    @Test("an unladen crossing records the decision and touches no bundle", arguments: StoreBackend.all)
    func unladen(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let request = Fixture.request(lane: Fixture.outboundLane, at: Fixture.t0, unladen: true)
        let c = try await cross(store, "u1", request, at: Fixture.t0)
        #expect(c.decision.reason == .unladen)
        #expect(c.unladenPressed)
        #expect(try await store.crossings(vrn: nil, limit: 5) == [c])
        #expect(try await store.crossings(vrn: try VRN("XX1"), limit: 5).isEmpty)
    }

    @Test(
        "a passage whose claim lapsed and that then claimed the plate's next bundle uses that one when it leaves",
        arguments: StoreBackend.all)
    func leavingUsesThePassagesOpenClaim(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let first = try await bundled(store)
        let arrival = Fixture.t0.addingTimeInterval(3600)
        let passage = "passage:LMC-IN-03:1"
        func ask(_ id: String, at: Date) async throws -> Crossing {
            try await store.decideCrossing(
                requestID: id, claimant: passage, request: Fixture.request(at: at), policy: Fixture.policy,
                at: at)
        }
        #expect(try await ask("r1", at: arrival).decision.ubr == first.ubr)
        // The vehicle stands at the lane past the claim's lifetime; the driver
        // bundles again meanwhile (the lapsed claim is settled into used),
        // and the lane asks again about the same passage.
        let later = arrival.addingTimeInterval(BundleLife.claimLifetime + 60)
        // UBRs are random; the store must not find the used one by luck of
        // order, so the next bundle gets a higher UBR than the first (others
        // are debundled, and no passage ever claimed them).
        var second: CargoBundle
        repeat {
            let c = try await store.submitConsignment(Fixture.submission(), by: Fixture.shipper, at: later)
            second = try await store.createBundle(
                Fixture.bundleRequest([c.ccrn]), by: Fixture.driver, at: later)
            if second.ubr.value > first.ubr.value { break }
            _ = try await store.debundle(second.ubr, by: Fixture.driver, at: later)
        } while true
        let retry = later.addingTimeInterval(1800)
        #expect(try await ask("r2", at: retry).decision.ubr == second.ubr)
        #expect(
            try await store.recordVehicleLeft(
                lane: Fixture.inboundLane.id, claimant: passage, ubr: nil, at: retry)
                == .used)
        #expect(try await store.bundle(first.ubr)?.status == .used)
        #expect(try await store.bundle(second.ubr)?.status == .used)
    }
}
