import ClearanceCore
import Foundation
import RoadCargo
import Testing

private typealias F = Fixtures

/// One row of the Examples table of CLEARANCE-RULES.md.
struct RuleExample: Sendable, CustomTestStringConvertible {
    var name: String
    var lane: Direction
    var arrival: String
    var unladen: Bool
    var bundle: CargoBundle?
    var answer: String
    var testDescription: String { name }
}

@Suite("Lane decisions")
struct DecisionTests {
    static let examples: [RuleExample] = [
        .init(
            name: "bundled in time", lane: .inbound, arrival: "2009-10-24 23:30:00", unladen: false,
            bundle: F.bundle(), answer: "CLEARED BUNDLE_OK"),
        .init(
            name: "too early", lane: .inbound, arrival: "2009-10-24 23:26:43", unladen: false,
            bundle: F.bundle(),
            answer: "INSPECT EARLY_CROSSING"),
        .init(
            name: "exactly on time", lane: .inbound, arrival: "2009-10-24 23:26:44", unladen: false,
            bundle: F.bundle(), answer: "CLEARED BUNDLE_OK"),
        .init(
            name: "unladen", lane: .outbound, arrival: "2009-10-24 23:30:00", unladen: true, bundle: nil,
            answer: "CLEARED UNLADEN"),
        .init(
            name: "both", lane: .inbound, arrival: "2009-10-24 23:30:00", unladen: true, bundle: F.bundle(),
            answer: "INSPECT UNLADEN_CONFLICT"),
        .init(
            name: "wrong way", lane: .outbound, arrival: "2009-10-24 23:30:00", unladen: false,
            bundle: F.bundle(),
            answer: "INSPECT NO_BUNDLE"),
    ]

    @Test("every example of CLEARANCE-RULES.md", arguments: examples)
    func example(_ e: RuleExample) {
        let d = F.decide(at: F.hk(e.arrival), lane: F.lane(e.lane), unladen: e.unladen, bundle: e.bundle)
        #expect(d.answer == e.answer)
        if d.reason == .earlyCrossing {
            #expect(d.earliestCrossing.map(HongKongTime.displayString) == "2009-10-24 23:26:44")
        } else {
            #expect(d.earliestCrossing == nil)
        }
        // The bundle is named whenever it was decided on, so it becomes used.
        let decidedOnBundle = e.bundle != nil && e.lane == .inbound
        #expect((d.ubr != nil) == decidedOnBundle)
    }

    @Test("the 30-minute rule holds to the second", arguments: [-60.0, -1, -0.001, 0, 0.001, 1, 60])
    func thirtyMinutes(offset: Double) {
        let arrival = F.bundledAt.addingTimeInterval(30 * 60 + offset)
        let d = F.decide(at: arrival)
        #expect(d.answer == (offset < 0 ? "INSPECT EARLY_CROSSING" : "CLEARED BUNDLE_OK"))
    }

    @Test("a CCRN expires at the end of its Valid Until day in Hong Kong, 16:00 UTC")
    func ccrnExpiry() {
        let lastSecond = F.utc("2009-11-16 15:59:59")
        let expired = F.utc("2009-11-16 16:00:00")
        #expect(F.decide(at: lastSecond).answer == "CLEARED BUNDLE_OK")
        #expect(F.decide(at: lastSecond.addingTimeInterval(0.999)).answer == "CLEARED BUNDLE_OK")
        let d = F.decide(at: expired)
        #expect(d.answer == "INSPECT CCRN_EXPIRED")
        #expect(d.ccrns == [F.ccrn(1)])
    }

    @Test("CCRN_EXPIRED names only the expired CCRNs, and data the lane cannot see counts as expired")
    func expiredNamesEach() {
        let bundle = F.bundle(ccrns: [F.ccrn(1), F.ccrn(2), F.ccrn(3)])
        let d = F.decide(
            at: F.hk("2009-11-10 12:00:00"), bundle: bundle,
            consignments: [F.consignment(1), F.consignment(2, validUntil: F.day("2009-11-09"))])
        #expect(d.answer == "INSPECT CCRN_EXPIRED")
        #expect(d.ccrns == [F.ccrn(2), F.ccrn(3)])
    }

    @Test(
        "TARGETED by VRN, by CCRN, by consignee with case and spaces folded",
        arguments: [
            (WatchTarget.vrn(F.truck), [CCRN]()),
            (.ccrn(F.ccrn(2)), [F.ccrn(2)]),
            (.consignee("wilson   DEVELOPMENT limited"), [F.ccrn(2)]),
            (.consignee("  Wilson Development Limited "), [F.ccrn(2)]),
        ])
    func targeted(target: WatchTarget, named: [CCRN]) {
        let bundle = F.bundle(ccrns: [F.ccrn(1), F.ccrn(2)])
        let consignments = [F.consignment(1), F.consignment(2, consignee: "Wilson Development Limited")]
        let d = F.decide(
            at: F.hk("2009-10-24 23:30:00"), bundle: bundle, consignments: consignments, watch: [target])
        #expect(d.answer == "INSPECT TARGETED")
        #expect(d.ccrns == named)
    }

    @Test("watch entries that do not match change nothing")
    func notTargeted() {
        let watch: [WatchTarget] = [
            .vrn(F.vrn("VRN0913")), .ccrn(F.ccrn(9)), .consignee("Wilson Development"),
        ]
        #expect(F.decide(at: F.hk("2009-10-24 23:30:00"), watch: watch).answer == "CLEARED BUNDLE_OK")
    }

    @Test("the rule order: conflict, early, expired, targeted, random")
    func order() {
        let everything: [WatchTarget] = [.vrn(F.truck)]
        let all = F.policy(laden: 1, unladen: 1)
        // Early and targeted and random: early wins.
        #expect(
            F.decide(at: F.hk("2009-10-24 23:00:00"), watch: everything, policy: all).answer
                == "INSPECT EARLY_CROSSING")
        // Early and unladen: the conflict wins.
        #expect(F.decide(at: F.hk("2009-10-24 23:00:00"), unladen: true).answer == "INSPECT UNLADEN_CONFLICT")
        // Expired and targeted: expired wins.
        #expect(
            F.decide(at: F.hk("2009-11-17 09:00:00"), watch: everything, policy: all).answer
                == "INSPECT CCRN_EXPIRED")
        // Targeted and random: targeted wins.
        #expect(
            F.decide(at: F.hk("2009-10-24 23:30:00"), watch: everything, policy: all).answer
                == "INSPECT TARGETED")
        #expect(F.decide(at: F.hk("2009-10-24 23:30:00"), policy: all).answer == "INSPECT RANDOM")
    }

    @Test("laden selection: always at rate 1, never at rate 0")
    func ladenRates() {
        let arrival = F.hk("2009-10-24 23:30:00")
        for n in UInt64(0)..<500 {
            let b = F.bundle(n)
            #expect(F.decide(at: arrival, bundle: b, policy: F.policy(laden: 1)).answer == "INSPECT RANDOM")
            #expect(
                F.decide(at: arrival, bundle: b, policy: F.policy(laden: 0)).answer == "CLEARED BUNDLE_OK")
        }
    }

    @Test("unladen: watch list, then selection at the unladen rate")
    func unladen() {
        let at = F.hk("2009-10-24 23:30:00")
        func d(_ watch: [WatchTarget] = [], laden: Double = 0, unladen: Double = 0) -> String {
            F.decide(
                at: at, lane: F.lane(.outbound), unladen: true, bundle: nil, watch: watch,
                policy: F.policy(laden: laden, unladen: unladen)
            ).answer
        }
        #expect(d() == "CLEARED UNLADEN")
        #expect(d([.vrn(F.truck)]) == "INSPECT TARGETED")
        #expect(d(unladen: 1) == "INSPECT RANDOM")
        #expect(d(laden: 1) == "CLEARED UNLADEN")
    }

    @Test("transitional period: paper manifest, selected at the unladen rate")
    func transitional() {
        let at = F.hk("2009-10-24 23:30:00")
        func d(_ watch: [WatchTarget] = [], laden: Double = 0, unladen: Double = 0) -> Decision {
            F.decide(
                at: at, bundle: nil, watch: watch,
                policy: F.policy(.transitional, laden: laden, unladen: unladen))
        }
        #expect(d().answer == "DROP_MANIFEST PAPER_MANIFEST")
        #expect(d(laden: 1).answer == "DROP_MANIFEST PAPER_MANIFEST")
        #expect(d(unladen: 1).answer == "INSPECT RANDOM")
        #expect(d([.vrn(F.truck)]).answer == "INSPECT TARGETED")
        // After full implementation there is no paper route.
        #expect(
            F.decide(at: at, bundle: nil, policy: F.policy(.full, unladen: 0)).answer == "INSPECT NO_BUNDLE")
    }

    @Test("a used or debundled bundle is no bundle", arguments: [BundleStatus.used, .debundled])
    func endedBundle(status: BundleStatus) {
        let at = F.hk("2009-10-24 23:30:00")
        let b = F.bundle(status: status)
        #expect(F.decide(at: at, bundle: b).answer == "INSPECT NO_BUNDLE")
        #expect(F.decide(at: at, bundle: b).ubr == nil)
        #expect(
            F.decide(at: at, bundle: b, policy: F.policy(.transitional)).answer
                == "DROP_MANIFEST PAPER_MANIFEST")
        #expect(F.decide(at: at, unladen: true, bundle: b).answer == "CLEARED UNLADEN")
    }

    @Test("another vehicle's bundle is never decided on")
    func otherVehicle() {
        let b = F.bundle(vrn: F.vrn("VRN0913"))
        #expect(F.decide(at: F.hk("2009-10-24 23:30:00"), bundle: b).answer == "INSPECT NO_BUNDLE")
    }

    @Test(
        "one VRN with an import and an export bundle: each lane takes its own",
        arguments: [Direction.inbound, .outbound])
    func bothDirections(lane: Direction) {
        let importBundle = F.bundle(1, .inbound, ccrns: [F.ccrn(1)])
        let exportBundle = F.bundle(2, .outbound, ccrns: [F.ccrn(2)])
        let consignments = [F.consignment(1, .inbound), F.consignment(2, .outbound)]
        let own = lane == .inbound ? importBundle : exportBundle
        let other = lane == .inbound ? exportBundle : importBundle
        let at = F.hk("2009-10-24 23:30:00")
        let d = F.decide(at: at, lane: F.lane(lane), bundle: own, consignments: consignments)
        #expect(d.answer == "CLEARED BUNDLE_OK")
        #expect(d.ubr == own.ubr)
        // Handed the other direction's bundle, the lane must not clear on it.
        let wrong = F.decide(at: at, lane: F.lane(lane), bundle: other, consignments: consignments)
        #expect(wrong.answer == "INSPECT NO_BUNDLE")
        #expect(wrong.ubr == nil)
    }

    @Test(
        "CONTROL_POINT_CHANGED is noted, and clears all the same",
        arguments: [
            (ControlPoint?.some(.lokMaChau), ControlPoint.manKamTo, true),
            (.some(.lokMaChau), .lokMaChau, false),
            (nil, .shenzhenBay, false),
        ])
    func controlPointChanged(expected: ControlPoint?, at cp: ControlPoint, noted: Bool) {
        let d = F.decide(
            at: F.hk("2009-10-24 23:30:00"), lane: F.lane(.inbound, at: cp),
            bundle: F.bundle(expecting: expected))
        #expect(d.answer == "CLEARED BUNDLE_OK")
        #expect(d.notes == (noted ? [.controlPointChanged] : []))
    }

    @Test("the note also travels with an inspection")
    func noteOnInspect() {
        let d = F.decide(
            at: F.hk("2009-10-24 23:00:00"), lane: F.lane(.inbound, at: .manKamTo), bundle: F.bundle())
        #expect(d.answer == "INSPECT EARLY_CROSSING")
        #expect(d.notes == [.controlPointChanged])
    }

    @Test("a decision is a pure function: the same case gives the same answer")
    func reproducible() {
        let start = F.hk("2009-10-24 23:30:00")
        for i in 0..<200 {
            let at = start.addingTimeInterval(Double(i * 17))
            let p = F.policy(.transitional, laden: 0.5, unladen: 0.5)
            let a = F.decide(at: at, unladen: true, bundle: nil, policy: p)
            let b = F.decide(at: at, unladen: true, bundle: nil, policy: p)
            #expect(a == b)
        }
    }
}
