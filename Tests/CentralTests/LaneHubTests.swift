import CargoStore
import Central
import ClearanceCore
import Foundation
import HummingbirdTesting
import LinkCore
import Logging
import RoadCargo
import Testing

/// LaneHub, the link server's handler, in-process over the same harness as
/// the HTTP tests: it must decide exactly as the dry-run route does, record
/// each request once, and refuse what the authenticated lane may not ask.
@Suite struct LaneHubTests {
    static let lane = try! LaneID("LMC-IN-01")

    func hub(_ h: Harness) -> LaneHub {
        var logger = Logger(label: "LaneHubTests")
        logger.logLevel = .critical
        return LaneHub(repository: h.store, clock: h.clock, policy: h.central.policy, logger: logger)
    }

    func request(
        _ id: UInt64, vrn: String, at: Date, lane: LaneID = lane, unladen: Bool = false,
        passage: UInt64? = nil
    ) throws -> DecisionRequestMessage {
        DecisionRequestMessage(
            requestID: id, passageID: passage ?? id, lane: lane, vrn: try VRN(vrn), arrivedAt: at,
            unladenPressed: unladen)
    }

    /// Bundles VRN0912 and VRN0913 through the API, then asks the dry-run
    /// route and the hub about each at the same instant: VRN0912 a second
    /// before its earliest crossing, VRN0913 at it. (Each vehicle is asked
    /// once by the hub, because a recorded crossing claims its bundle.)
    @Test func decidesLikeTheDryRunRoute() async throws {
        let h = try await Harness()
        let hub = hub(h)
        try await h.app().test(.router) { client in
            var ubrs: [String: String] = [:]
            for vrn in ["VRN0912", "VRN0913"] {
                let ccrn = try await client.execute(
                    uri: "/v1/consignments", method: .post, headers: h.auth("shipper"),
                    body: buffer(h.submission())
                ) { r throws in try object(r)["ccrn"] as! String }
                ubrs[vrn] = try await client.execute(
                    uri: "/v1/bundles", method: .post, headers: h.auth("driver"),
                    body: buffer(["driverName": "Ho Kin", "vrn": vrn, "direction": "import", "ccrns": [ccrn]])
                ) { r throws in try object(r)["ubr"] as! String }
            }
            for (seconds, id, vrn, expected) in [
                (1799.0, UInt64(1), "VRN0912", Reason.earlyCrossing), (1.0, UInt64(2), "VRN0913", .bundleOK),
            ] {
                let now = h.clock.advance(by: seconds)
                let dryRun = try await client.execute(
                    uri: "/v1/decisions/dry-run", method: .post, headers: h.auth("officer"),
                    body: buffer(["laneId": "LMC-IN-01", "vrn": vrn, "unladen": false])
                ) { r throws in try object(r) }
                let decided = try await hub.decide(
                    lane: Self.lane, request: try request(id, vrn: vrn, at: now))
                #expect(decided.requestID == id)
                #expect(decided.decision.reason == expected)
                #expect(dryRun["reason"] as? String == decided.decision.reason.rawValue)
                #expect(dryRun["instruction"] as? String == decided.decision.instruction.rawValue)
                #expect(dryRun["ubr"] as? String == ubrs[vrn])
                #expect(decided.decision.ubr.map { "\($0)" } == ubrs[vrn])
            }
        }
    }

    /// A resent request (lost answer, restarted lane) gets the recorded
    /// decision back and records no second crossing, even when the rules
    /// would now answer differently.
    @Test func resentRequestGetsTheSameDecision() async throws {
        let h = try await Harness()
        let hub = hub(h)
        let arrived = h.clock.now()
        let first = try await hub.handle(
            lane: Self.lane, message: .decisionRequest(try request(7, vrn: "AB1", at: arrived, unladen: true))
        )
        _ = try await h.store.addWatch(
            .vrn(try VRN("AB1")), note: "test", by: Account(name: "officer", role: .officer), at: arrived)
        _ = h.clock.advance(by: 60)
        let again = try await hub.handle(
            lane: Self.lane, message: .decisionRequest(try request(7, vrn: "AB1", at: arrived, unladen: true))
        )
        #expect(first == again)
        guard case .decision(let d) = first.first else {
            Issue.record("no decision in \(first)")
            return
        }
        #expect(d.decision.reason == .unladen)
        #expect(try await h.store.crossings(vrn: try VRN("AB1"), limit: 10).count == 1)
        #expect(hub.counts.decisions == 2)
    }

    /// The key authenticated LMC-IN-01; a request naming another lane, or a
    /// lane central does not know, is refused and records nothing.
    @Test func refusesAnotherLanesRequestAndUnknownLanes() async throws {
        let h = try await Harness()
        let hub = hub(h)
        let other = try LaneID("LMC-IN-02")
        await #expect(throws: LaneHubRefusal.otherLane(authenticated: Self.lane, named: other)) {
            _ = try await hub.decide(
                lane: Self.lane, request: try request(1, vrn: "AB1", at: h.clock.now(), lane: other))
        }
        await #expect(throws: LaneHubRefusal.unknownLane(other)) {
            _ = try await hub.decide(
                lane: other, request: try request(2, vrn: "AB1", at: h.clock.now(), lane: other))
        }
        #expect(try await h.store.crossings(vrn: nil, limit: 10).isEmpty)
        #expect(hub.counts.refused == 2)
    }

    /// Lane events are logged and acknowledged with no reply.
    @Test func laneEventsAreAcceptedWithoutReply() async throws {
        let h = try await Harness()
        let hub = hub(h)
        let replies = try await hub.handle(
            lane: Self.lane, message: .laneEvent(LaneEvent(occurredAt: h.clock.now(), .laneOpened)))
        #expect(replies.isEmpty)
        #expect(hub.counts.laneEvents == 1)
    }

    /// Issue 14, case 4: a bundled truck's first request claims its bundle;
    /// the driver then presses Unladen (pending request, or after
    /// SYSTEM_UNAVAILABLE), and the lane asks again about the same passage.
    /// Central decides the re-request with the bundle the passage claimed:
    /// INSPECT UNLADEN_CONFLICT, never CLEARED UNLADEN. The leaving then
    /// makes the bundle used, and another passage finds no bundle.
    @Test func unladenAfterTheFirstRequestIsAConflictOnThePassagesBundle() async throws {
        let h = try await Harness()
        let hub = hub(h)
        try await h.app().test(.router) { client in
            let ubr = try await h.bundle(client, vrn: "LADEN1")["ubr"] as! String
            let now = h.clock.advance(by: 3600)
            let first = try await hub.decide(
                lane: Self.lane, request: try request(10, vrn: "LADEN1", at: now, passage: 10))
            #expect(first.decision.reason == .bundleOK)
            let again = try await hub.decide(
                lane: Self.lane, request: try request(11, vrn: "LADEN1", at: now, unladen: true, passage: 10))
            #expect(again.decision.instruction == .inspect)
            #expect(again.decision.reason == .unladenConflict)
            #expect(again.decision.ubr.map { "\($0)" } == ubr)
            // The same press at another passage (another truck, same plate,
            // another lane's request) finds the bundle claimed: no bundle.
            let stranger = try await hub.decide(
                lane: Self.lane, request: try request(12, vrn: "LADEN1", at: now, unladen: true, passage: 12))
            #expect(stranger.decision.reason == .unladen)
            _ = try await hub.handle(
                lane: Self.lane,
                message: .laneEvent(
                    LaneEvent(
                        occurredAt: now,
                        .vehicleLeft(vrn: try VRN("LADEN1"), ubr: again.decision.ubr, passageID: 10))))
            try await client.execute(uri: "/v1/bundles/\(ubr)", method: .get, headers: h.auth("officer")) {
                r throws in #expect(try object(r)["status"] as? String == "used")
            }
            let later = try await hub.decide(
                lane: Self.lane, request: try request(20, vrn: "LADEN1", at: now.addingTimeInterval(60)))
            #expect(later.decision.reason == .noBundle)
        }
    }

    /// A vehicle that leaves before its answer reached the boards (the lane
    /// reports no UBR) still uses the bundle its passage claimed (rule 1:
    /// "in every case").
    @Test func leavingUsesThePassagesClaimEvenWithoutAShownDecision() async throws {
        let h = try await Harness()
        let hub = hub(h)
        try await h.app().test(.router) { client in
            let ubr = try await h.bundle(client, vrn: "LADEN2")["ubr"] as! String
            let now = h.clock.advance(by: 3600)
            _ = try await hub.decide(lane: Self.lane, request: try request(30, vrn: "LADEN2", at: now))
            _ = try await hub.handle(
                lane: Self.lane,
                message: .laneEvent(
                    LaneEvent(occurredAt: now, .vehicleLeft(vrn: try VRN("LADEN2"), ubr: nil, passageID: 30)))
            )
            try await client.execute(uri: "/v1/bundles/\(ubr)", method: .get, headers: h.auth("officer")) {
                r throws in #expect(try object(r)["status"] as? String == "used")
            }
        }
    }
}
