import CargoStore
import Central
import ClearanceCore
import Foundation
import HummingbirdTesting
import LinkCore
import Logging
import RoadCargo
import Testing

/// One bundle, one crossing, through central's own doors: the HTTP API and
/// the lane hub (issue 14, parts 2 and 5).
@Suite struct ClaimTests {
    static let lanes = [try! LaneID("LMC-IN-01"), try! LaneID("LMC-IN-02")]

    func hub(_ h: Harness) -> LaneHub {
        var logger = Logger(label: "ClaimTests")
        logger.logLevel = .critical
        return LaneHub(repository: h.store, clock: h.clock, policy: h.central.policy, logger: logger)
    }

    func ask(_ hub: LaneHub, _ lane: LaneID, _ id: UInt64, _ vrn: String, at: Date) async throws -> Decision {
        try await hub.decide(
            lane: lane,
            request: DecisionRequestMessage(
                requestID: id, passageID: id, lane: lane, vrn: try VRN(vrn), arrivedAt: at,
                unladenPressed: false)
        ).decision
    }

    func bundle(_ h: Harness, _ client: some TestClientProtocol, vrn: String) async throws -> [String: Any] {
        try await h.bundle(client, vrn: vrn)
    }

    @Test("bundled at 09:00:00.700: the API prints earliest crossing 09:30:00, and a truck then clears")
    func printedEarliestCrossingClears() async throws {
        let h = try await Harness()
        let hub = hub(h)
        try await h.app().test(.router) { client in
            h.clock.set(try HongKongTime.parse("2026-11-26T09:00:00+08:00").addingTimeInterval(0.7))
            let printed = try await bundle(h, client, vrn: "VRN0912")
            #expect(printed["completedAt"] as? String == "2026-11-26T09:00:00+08:00")
            #expect(printed["earliestCrossing"] as? String == "2026-11-26T09:30:00+08:00")
            let earliest = try HongKongTime.parse(printed["earliestCrossing"] as! String)

            // Just before the printed time: early, and the answer names the printed time.
            h.clock.set(earliest.addingTimeInterval(-0.3))
            let early = try await client.execute(
                uri: "/v1/decisions/dry-run", method: .post, headers: h.auth("officer"),
                body: buffer(["laneId": "LMC-IN-01", "vrn": "VRN0912", "unladen": false])
            ) { r throws in try object(r) }
            #expect(early["reason"] as? String == "EARLY_CROSSING")
            #expect(early["earliestCrossing"] as? String == printed["earliestCrossing"] as? String)

            // At the printed time (and 300 ms into it): cleared, by the dry
            // run and by a lane's request.
            h.clock.set(earliest.addingTimeInterval(0.3))
            let dryRun = try await client.execute(
                uri: "/v1/decisions/dry-run", method: .post, headers: h.auth("officer"),
                body: buffer(["laneId": "LMC-IN-01", "vrn": "VRN0912", "unladen": false])
            ) { r throws in try object(r) }
            #expect(dryRun["instruction"] as? String == "CLEARED")
            let decided = try await ask(hub, Self.lanes[0], 1, "VRN0912", at: earliest)
            #expect(decided.instruction == .cleared)
            #expect(decided.reason == .bundleOK)
        }
    }

    @Test("two lanes ask about one bundle at once: one decision on it; the lane's leaving makes it used")
    func twoLanesOneBundle() async throws {
        let h = try await Harness()
        try await h.store.putLane(Lane(id: Self.lanes[1], controlPoint: .lokMaChau, direction: .inbound))
        let hub = hub(h)
        try await h.app().test(.router) { client in
            for round in 0..<20 {
                let vrn = "RC\(round)"
                let ubr = try await bundle(h, client, vrn: vrn)["ubr"] as! String
                let now = h.clock.advance(by: 1800)
                let decisions = try await withThrowingTaskGroup(of: (LaneID, Decision).self) { group in
                    for lane in Self.lanes {
                        group.addTask { (lane, try await ask(hub, lane, UInt64(round), vrn, at: now)) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let winners = decisions.filter { $0.1.ubr.map { "\($0)" } == ubr }
                #expect(winners.count == 1)
                #expect(winners.first?.1.reason == .bundleOK)
                #expect(decisions.filter { $0.1.reason == .noBundle }.count == 1)
                try await client.execute(uri: "/v1/bundles/\(ubr)", method: .get, headers: h.auth("officer"))
                {
                    r throws in #expect(try object(r)["status"] as? String == "claimed")
                }
                // Debundling while the truck stands at the lane: refused.
                try await client.execute(
                    uri: "/v1/bundles/\(ubr)/debundle", method: .post, headers: h.auth("driver")
                ) { r throws in
                    #expect(r.status == .conflict)
                    #expect(try issues(r).map(\.rule) == ["bundle.claimed"])
                }
                // The other lane's vehicle leaving changes nothing; the winner's uses it.
                guard let winner = winners.first?.0, let loser = Self.lanes.first(where: { $0 != winner })
                else {
                    continue
                }
                for lane in [loser, winner] {
                    _ = try await hub.handle(
                        lane: lane,
                        message: .laneEvent(
                            LaneEvent(
                                occurredAt: now,
                                .vehicleLeft(
                                    vrn: try VRN(vrn), ubr: try UBR(ubr), passageID: UInt64(round)))))
                    let expected = lane == winner ? "used" : "claimed"
                    try await client.execute(
                        uri: "/v1/bundles/\(ubr)", method: .get, headers: h.auth("officer")
                    ) {
                        r throws in #expect(try object(r)["status"] as? String == expected)
                    }
                }
            }
        }
    }
}
