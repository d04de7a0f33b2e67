import Foundation
import RoadCargo
import TestKit

@testable import LinkCore

/// Random but valid values of every message, for round-trip properties.
struct MessageGenerator {
    var rng: SeededGenerator

    mutating func int<T: FixedWidthInteger>(_: T.Type = T.self) -> T {
        T.random(in: T.min...T.max, using: &rng)
    }
    mutating func bool() -> Bool { Bool.random(using: &rng) }
    mutating func pick<T>(_ xs: [T]) -> T { xs.randomElement(using: &rng)! }
    mutating func count(_ max: Int) -> Int { Int.random(in: 0...max, using: &rng) }

    /// Whole microseconds between 2000 and 2100, as the wire carries them.
    mutating func date() -> Date {
        WireTime.date(Int64.random(in: 946_684_800_000_000..<4_102_444_800_000_000, using: &rng))
    }

    mutating func text(_ maxLength: Int = 40) -> String {
        let alphabet = Array("abc XYZ 0123 落馬洲 é\u{1F69A}\n\"")
        return String((0..<count(maxLength)).map { _ in pick(alphabet) })
    }

    mutating func vrn() -> VRN {
        let chars = Array("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
        return try! VRN(String((0..<Int.random(in: 1...8, using: &rng)).map { _ in pick(chars) }))
    }

    mutating func lane() -> LaneID {
        let chars = Array("ABCXYZ-_0189abc")
        return try! LaneID(String((0..<Int.random(in: 1...32, using: &rng)).map { _ in pick(chars) }))
    }

    mutating func ubr() -> UBR { UBR(payload: UInt64.random(in: 0..<1_000_000_000, using: &rng)) }
    mutating func ccrn() -> CCRN { CCRN(payload: UInt64.random(in: 0..<1_000_000_000, using: &rng)) }
    mutating func list<T>(_ max: Int, _ make: (inout MessageGenerator) -> T) -> [T] {
        (0..<count(max)).map { _ in make(&self) }
    }

    mutating func decision() -> Decision {
        Decision(
            instruction: pick(Instruction.allCases), reason: pick(Reason.allCases),
            notes: list(2) { $0.pick(DecisionNote.allCases) }, ubr: bool() ? ubr() : nil,
            earliestCrossing: bool() ? date() : nil, ccrns: list(5) { $0.ccrn() })
    }

    mutating func laneEvent() -> LaneEvent {
        let kind: LaneEvent.Kind =
            switch count(6) {
            case 0: .buttonPressed(pick(LaneButton.allCases), kernelNanoseconds: int())
            case 1: .buttonReleased(pick(LaneButton.allCases), kernelNanoseconds: int())
            case 2: .instructionShown(pick(Instruction.allCases), decisionID: int())
            case 3: .vehicleLeft(vrn: vrn(), ubr: bool() ? ubr() : nil, passageID: int())
            case 4: .laneOpened
            case 5: .laneClosed
            default: .fault(code: int(), text: text())
            }
        return LaneEvent(occurredAt: date(), kind)
    }

    mutating func watchTarget() -> WatchTarget {
        switch count(2) {
        case 0: .vrn(vrn())
        case 1: .ccrn(ccrn())
        default: .consignee(pick(["WILSON DEVELOPMENT LTD", "A", "落馬洲 TRADING"]))
        }
    }

    mutating func bundle() -> CachedBundle {
        CachedBundle(
            ubr: ubr(), vrn: vrn(), direction: pick(Direction.allCases),
            ccrns: list(4) { g in
                CachedCCRN(
                    ccrn: g.ccrn(),
                    validUntil: CalendarDay(daysSinceEpoch: Int.random(in: 0...60_000, using: &g.rng)))
            }, earliestCrossing: date(), status: pick(BundleStatus.allCases))
    }

    mutating func message() -> LaneMessage {
        switch count(21) {
        case 0:
            .hello(
                LinkHello(
                    versions: list(4) { $0.int() }, laneID: lane(),
                    capabilities: LinkCapabilities(rawValue: int())))
        case 1:
            .welcome(
                LinkWelcome(
                    version: int(), capabilities: LinkCapabilities(rawValue: int()), centralTime: date()))
        case 2: .refuse(LinkRefuse(code: int(), text: text()))
        case 3: .heartbeat
        case 4: .goodbye
        case 5: .ack(list(20) { $0.int() })
        case 6: .timeSync(.request(sentAt: date()))
        case 7: .timeSync(.reply(requestSentAt: date(), receivedAt: date(), repliedAt: date()))
        case 8: .vehicleArrival(VehicleArrival(vrn: vrn(), arrivedAt: date()))
        case 9:
            .decisionRequest(
                DecisionRequestMessage(
                    requestID: int(), passageID: int(), lane: lane(), vrn: vrn(), arrivedAt: date(),
                    unladenPressed: bool()))
        case 10: .decision(DecisionMessage(requestID: int(), decisionID: int(), decision: decision()))
        case 11, 12: .laneEvent(laneEvent())
        case 13:
            .helpCall(
                pick([
                    .ring(callID: int()), .answer(callID: int(), officer: text(10)), .hold(callID: int()),
                    .end(callID: int()), .officerMessage(callID: int(), phraseID: int(), text: text()),
                ]))
        case 14:
            .officerCommand(
                .override(
                    requestID: int(), instruction: pick(Instruction.allCases), reason: pick(Reason.allCases),
                    officer: text(10), text: text()))
        case 15:
            .officerCommand(
                pick([
                    .openLane(officer: text(10)), .closeLane(officer: text(10)),
                    .offlineMode(on: bool(), officer: text(10)),
                ]))
        case 16:
            .offlineCrossing(
                OfflineCrossing(
                    passageID: int(), requestID: int(), vrn: vrn(), arrivedAt: date(), unladenPressed: bool(),
                    decidedAt: date(), decision: decision(),
                    cacheVersion: bool() ? CacheVersion(generation: int(), sequence: int()) : nil))
        case 17:
            .bundleCacheDelta(
                BundleCacheDelta(
                    generation: int(), sequence: UInt64.random(in: 1...1_000_000, using: &rng),
                    changes: list(5) { g in
                        switch g.count(3) {
                        case 0: .put(g.bundle())
                        case 1: .drop(g.ubr())
                        default: .watchList(g.list(4) { $0.watchTarget() })
                        }
                    }))
        case 18:
            .cacheResync(have: bool() ? CacheVersion(generation: int(), sequence: int()) : nil)
        default:
            {
                let n = UInt16.random(in: 1...9, using: &rng)
                return .bundleCache(
                    BundleCacheChunk(
                        generation: int(), index: UInt16.random(in: 0..<n, using: &rng), count: n,
                        bundles: list(6) { $0.bundle() }, watchList: list(4) { $0.watchTarget() }))
            }()
        }
    }
}
