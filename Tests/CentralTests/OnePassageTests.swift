import CargoStore
import Central
import ClearanceCore
import Foundation
import LinkCore
import LinkTestSupport
import Logging
import RoadCargo
import TestKit
import Testing

/// Random walks over three lanes, four plates and a driver who bundles and
/// debundles, through `LaneHub` (the path every lane's request takes) on one
/// store: vehicles arrive, press Unladen late, are asked about again (a retry
/// under a new request id, a resend under the same one) and leave, in
/// batches that run concurrently, while the clock moves (now and then past a
/// claim's 6-hour lifetime). Whatever the order, no bundle is decided on for
/// two passages, none is CLEARED twice, a late Unladen press on a passage
/// that claimed a bundle is UNLADEN_CONFLICT, and every bundle decided on is
/// used once its vehicle has left (issue 14: "no path remains by which one
/// bundle clears two passages").
@Suite("One bundle, one passage: random walks through the hub")
struct OnePassageTests {
    static let lanes = ["LMC-IN-01", "LMC-IN-02", "LMC-IN-03"].map { try! LaneID($0) }
    static let plates = (1...4).map { try! VRN("WALK\($0)") }

    /// A vehicle standing at a lane, as the lane would track it.
    struct Stay {
        var passage: UInt64
        var vrn: VRN
        var arrivedAt: Date
        var unladen = false
        var lastRequest: UInt64
        /// The bundle the passage's decisions were on, and when it was first claimed.
        var claimed: (ubr: UBR, at: Date)?
    }

    enum Op: Sendable {
        case arrive(LaneID, VRN, id: UInt64)
        case ask(LaneID, passage: UInt64, vrn: VRN, arrivedAt: Date, unladen: Bool, id: UInt64)
        case leave(LaneID, passage: UInt64, vrn: VRN, ubr: UBR?)
        case bundle(VRN)
        case debundle(VRN)
    }

    enum Result: Sendable {
        case decided(LaneID, requestID: UInt64, Decision)
        case left
        case driver
    }

    let shipper = Account(name: "shipper", role: .shipper)
    let driver = Account(name: "driver", role: .driver)

    func submission(_ now: Date) -> ConsignmentSubmission {
        ConsignmentSubmission(
            direction: .inbound, expectedDate: CalendarDay(containing: now).advanced(by: 1),
            consignor: Party(
                name: "Shenzhen Widgets Ltd", countryCode: "CN", addressLines: ["1 Shennan Road"]),
            consignee: Party(name: "Winning Co Ltd", countryCode: "HK", addressLines: ["2 Nathan Road"]),
            goodsItems: [
                GoodsItem(description: "plastic widgets", grossWeight: Measure(value: 550, unit: "KGM"))
            ])
    }

    func run(_ op: Op, hub: LaneHub, store: SQLiteCargoStore, now: Date) async throws -> Result {
        func request(_ lane: LaneID, _ id: UInt64, _ passage: UInt64, _ vrn: VRN, _ at: Date, _ unladen: Bool)
            async throws -> Result
        {
            let answer = try await hub.decide(
                lane: lane,
                request: DecisionRequestMessage(
                    requestID: id, passageID: passage, lane: lane, vrn: vrn, arrivedAt: at,
                    unladenPressed: unladen))
            return .decided(lane, requestID: id, answer.decision)
        }
        switch op {
        case .arrive(let lane, let vrn, let id):
            return try await request(lane, id, id, vrn, now, false)
        case .ask(let lane, let passage, let vrn, let arrivedAt, let unladen, let id):
            return try await request(lane, id, passage, vrn, arrivedAt, unladen)
        case .leave(let lane, let passage, let vrn, let ubr):
            _ = try await hub.handle(
                lane: lane,
                message: .laneEvent(
                    LaneEvent(occurredAt: now, .vehicleLeft(vrn: vrn, ubr: ubr, passageID: passage))))
            return .left
        case .bundle(let vrn):
            // Refused while the plate has an open bundle (rule 3): the walk goes on.
            let c = try await store.submitConsignment(submission(now), by: shipper, at: now)
            _ = try? await store.createBundle(
                BundleRequest(driverName: "Ho Kin", vrn: vrn, direction: .inbound, ccrns: [c.ccrn]),
                by: driver,
                at: now)
            return .driver
        case .debundle(let vrn):
            if let open = try await store.activeBundle(vrn: vrn, direction: .inbound) {
                do {
                    _ = try await store.debundle(open.ubr, by: driver, at: now)
                } catch {
                    // Only a bundle a passage claimed may refuse: claimed (its
                    // vehicle stands at a lane), or used (the debundle found
                    // the claim past its lifetime and settled it).
                    let status = try await store.bundle(open.ubr)?.status
                    #expect(status == .claimed || status == .used, "\(error)")
                }
            }
            return .driver
        }
    }

    @Test("no bundle is decided on for two passages, whatever the interleaving", arguments: 0..<6)
    func randomWalk(seed: UInt64) async throws {
        let h = try await Harness()
        for lane in Self.lanes.dropFirst() {
            try await h.store.putLane(Lane(id: lane, controlPoint: .lokMaChau, direction: .inbound))
        }
        var logger = Logger(label: "OnePassageTests")
        logger.logLevel = .critical
        let hub = LaneHub(repository: h.store, clock: h.clock, policy: h.central.policy, logger: logger)
        var rng = SeededGenerator(seed: 0x5EED_0000 + seed)
        var nextID: UInt64 = 1
        var stays: [LaneID: Stay] = [:]
        /// Every passage that got a decision on each bundle, and those that were CLEARED on it.
        var decidedFor: [UBR: Set<String>] = [:]
        var clearedFor: [UBR: Set<String>] = [:]
        var conflicts = 0

        for _ in 0..<120 {
            var ops: [Op] = []
            for lane in Self.lanes {
                if let stay = stays[lane] {
                    nextID += 1
                    switch Int.random(in: 0..<5, using: &rng) {
                    case 0 where !stay.unladen:
                        ops.append(
                            .ask(
                                lane, passage: stay.passage, vrn: stay.vrn, arrivedAt: stay.arrivedAt,
                                unladen: true,
                                id: nextID))
                    case 1:
                        ops.append(
                            .ask(
                                lane, passage: stay.passage, vrn: stay.vrn, arrivedAt: stay.arrivedAt,
                                unladen: stay.unladen, id: nextID))
                    case 2:
                        ops.append(
                            .ask(
                                lane, passage: stay.passage, vrn: stay.vrn, arrivedAt: stay.arrivedAt,
                                unladen: stay.unladen, id: stay.lastRequest))
                    default:
                        ops.append(.leave(lane, passage: stay.passage, vrn: stay.vrn, ubr: stay.claimed?.ubr))
                    }
                } else if Bool.random(using: &rng) {
                    nextID += 1
                    ops.append(.arrive(lane, Self.plates.randomElement(using: &rng)!, id: nextID))
                }
            }
            let plate = Self.plates.randomElement(using: &rng)!
            switch Int.random(in: 0..<4, using: &rng) {
            case 0, 1: ops.append(.bundle(plate))
            case 2: ops.append(.debundle(plate))
            default: break
            }
            let now = h.clock.now()
            let results = try await withThrowingTaskGroup(of: (Op, Result).self) { group in
                for op in ops {
                    group.addTask { (op, try await run(op, hub: hub, store: h.store, now: now)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (op, result) in results {
                switch (op, result) {
                case (.arrive(let lane, let vrn, let id), .decided(_, _, let decision)):
                    stays[lane] = Stay(passage: id, vrn: vrn, arrivedAt: now, lastRequest: id)
                    record(lane, decision)
                case (.ask(let lane, _, _, _, let unladen, let id), .decided(_, _, let decision)):
                    guard var stay = stays[lane] else { continue }
                    if unladen, !stay.unladen, let claim = stay.claimed,
                        now.timeIntervalSince(claim.at) < BundleLife.claimLifetime
                    {
                        // The passage claimed a bundle: a late press is a conflict on it.
                        #expect(decision.reason == .unladenConflict, "\(decision)")
                        #expect(decision.ubr == claim.ubr)
                        conflicts += 1
                    }
                    stay.unladen = unladen
                    stay.lastRequest = max(stay.lastRequest, id)
                    stays[lane] = stay
                    record(lane, decision)
                case (.leave(let lane, _, _, _), _):
                    stays[lane] = nil
                default:
                    break
                }
            }
            // Mostly a few minutes; now and then past a claim's lifetime.
            let step =
                Int.random(in: 0..<50, using: &rng) == 0 ? 7 * 3600 : Double.random(in: 0...900, using: &rng)
            _ = h.clock.advance(by: step)
        }

        func record(_ lane: LaneID, _ decision: Decision) {
            guard let ubr = decision.ubr, var stay = stays[lane] else { return }
            let passage = "\(lane)/\(stay.passage)"
            decidedFor[ubr, default: []].insert(passage)
            if decision.instruction == .cleared { clearedFor[ubr, default: []].insert(passage) }
            if stay.claimed == nil { stay.claimed = (ubr, h.clock.now()) }
            stays[lane] = stay
        }

        // Every vehicle leaves; every bundle decided on is then used.
        for (lane, stay) in stays {
            _ = try await run(
                .leave(lane, passage: stay.passage, vrn: stay.vrn, ubr: stay.claimed?.ubr), hub: hub,
                store: h.store,
                now: h.clock.now())
        }
        for (ubr, passages) in decidedFor {
            #expect(passages.count == 1, "UBR \(ubr) was decided on for \(passages.sorted())")
            #expect(try await h.store.bundle(ubr)?.status == .used, "UBR \(ubr)")
        }
        for (ubr, passages) in clearedFor {
            #expect(passages.count == 1, "UBR \(ubr) was CLEARED for \(passages.sorted())")
        }
        // The walk must have exercised what it checks.
        #expect(decidedFor.count >= 5, "only \(decidedFor.count) bundles were decided on")
        #expect(hub.counts.decisions > 100)
        _ = conflicts
    }
}
