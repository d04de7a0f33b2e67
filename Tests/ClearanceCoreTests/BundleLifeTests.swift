import ClearanceCore
import Foundation
import RoadCargo
import Testing

private typealias F = Fixtures

/// Every state against every event: the legal moves, the repeats that
/// change nothing, and the refusals (docs/rules.md, "A bundle's life").
@Suite("A bundle's life: active, claimed, used")
struct BundleLifeTests {
    static let t = F.hk("2009-10-24 23:30:00")
    static let here = try! LaneID("LMC-IN-01")
    static let there = try! LaneID("LMC-IN-02")
    static let mine = BundleLife.Claim(claimant: "passage:1", lane: here, at: t)
    static let theirs = BundleLife.Claim(claimant: "passage:2", lane: there, at: t)

    enum Expected: Sendable, CustomStringConvertible {
        case to(BundleLife.State)
        case unchanged
        case refused(BundleLife.Refusal)
        var description: String {
            switch self {
            case .to(let s): "-> \(s)"
            case .unchanged: "unchanged"
            case .refused(let r): "refused: \(r)"
            }
        }
    }

    static let table: [(BundleLife.State, BundleLife.Event, Expected)] = [
        // active
        (.active, .claim(mine), .to(.claimed(mine))),
        (.active, .vehicleLeft(lane: here), .refused(.notClaimedThere(.active, lane: here))),
        (.active, .debundle, .to(.debundled)),
        (.active, .tick(now: t.addingTimeInterval(1e6)), .unchanged),
        // claimed
        (.claimed(mine), .claim(mine), .unchanged),
        (.claimed(mine), .claim(theirs), .refused(.claimedByOther(mine))),
        (.claimed(mine), .vehicleLeft(lane: here), .to(.used)),
        (.claimed(mine), .vehicleLeft(lane: there), .refused(.notClaimedThere(.claimed(mine), lane: there))),
        (.claimed(mine), .debundle, .refused(.debundleWhileClaimed(mine))),
        (.claimed(mine), .tick(now: t.addingTimeInterval(BundleLife.claimLifetime - 1)), .unchanged),
        (.claimed(mine), .tick(now: t.addingTimeInterval(BundleLife.claimLifetime)), .to(.used)),
        // debundled
        (.debundled, .claim(mine), .refused(.ended(.debundled))),
        (.debundled, .vehicleLeft(lane: here), .refused(.notClaimedThere(.debundled, lane: here))),
        (.debundled, .debundle, .refused(.ended(.debundled))),
        (.debundled, .tick(now: t), .unchanged),
        // used
        (.used, .claim(mine), .refused(.ended(.used))),
        (.used, .vehicleLeft(lane: here), .unchanged),
        (.used, .debundle, .refused(.ended(.used))),
        (.used, .tick(now: t), .unchanged),
    ]

    @Test("every state and event", arguments: table.indices)
    func transition(_ i: Int) {
        let (state, event, expected) = Self.table[i]
        let got = BundleLife.apply(event, to: state)
        switch (got, expected) {
        case (.success(.moved(let s)), .to(let e)): #expect(s == e)
        case (.success(.unchanged), .unchanged): break
        case (.failure(let r), .refused(let e)): #expect(r == e)
        default: Issue.record("\(state) + \(event): got \(got), expected \(expected)")
        }
    }

    @Test("the table covers every state with every kind of event")
    func coverage() {
        let states = Set(Self.table.map { "\($0.0)".prefix(while: { $0 != "(" }) })
        #expect(states == ["active", "claimed", "debundled", "used"])
        for state in states {
            let events = Set(
                Self.table.filter { "\($0.0)".hasPrefix(state) }.map {
                    "\($0.1)".prefix(while: { $0 != "(" })
                })
            #expect(events == ["claim", "vehicleLeft", "debundle", "tick"], "\(state)")
        }
    }

    @Test("debundling a claimed bundle is refused with a sentence naming the lane")
    func debundleClaimed() throws {
        let b = F.bundle(status: .claimed)
        #expect(throws: RuleConflict.self) {
            try BundlingRules.checkDebundle(b, by: "driver-ho", isOfficer: true)
        }
    }
}

/// Bundle times are whole seconds, so a printed earliest crossing is one at
/// which the vehicle clears (rule: "an arrival at the printed earliest
/// crossing time clears").
@Suite("Whole seconds at the edges")
struct WholeSecondTests {
    @Test("completed at 09:00:00.700: earliest crossing 09:30:00, and an arrival then clears")
    func completedMidSecond() throws {
        let at = F.hk("2026-11-26 09:00:00").addingTimeInterval(0.7)
        let b = BundlingRules.complete(
            BundleRequest(driverName: "Ho", vrn: F.truck, direction: .inbound, ccrns: [F.ccrn(1)]),
            ubr: F.ubr(1),
            driverAccount: "driver-ho", at: at)
        #expect(b.completedAt == F.hk("2026-11-26 09:00:00"))
        #expect(HongKongTime.iso8601(b.earliestCrossing) == "2026-11-26T09:30:00+08:00")
        let consignment = F.consignment(1, validUntil: F.day("2026-12-31"))
        for arrival in [b.earliestCrossing, b.earliestCrossing.addingTimeInterval(0.3)] {
            let d = F.decide(at: arrival, bundle: b, consignments: [consignment])
            #expect(d.instruction == .cleared, "\(arrival)")
        }
        let early = F.decide(
            at: b.earliestCrossing.addingTimeInterval(-0.001), bundle: b, consignments: [consignment])
        #expect(early.reason == .earlyCrossing)
        #expect(early.earliestCrossing == b.earliestCrossing)
    }

    @Test("a stored earliest crossing with milliseconds counts, and is shown, from the next whole second")
    func legacyMilliseconds() {
        let consignments = [F.consignment(1, validUntil: F.day("2026-12-31"))]
        var b = F.bundle(completedAt: F.hk("2026-11-26 09:00:00"))
        b.earliestCrossing = F.hk("2026-11-26 09:30:00").addingTimeInterval(0.7)
        let early = F.decide(
            at: F.hk("2026-11-26 09:30:00").addingTimeInterval(0.8), bundle: b, consignments: consignments)
        #expect(early.reason == .earlyCrossing)
        #expect(early.earliestCrossing == F.hk("2026-11-26 09:30:01"))
        #expect(
            F.decide(at: F.hk("2026-11-26 09:30:01"), bundle: b, consignments: consignments).instruction
                == .cleared)
    }
}
