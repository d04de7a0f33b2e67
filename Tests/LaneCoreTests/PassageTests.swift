import Foundation
import LaneCore
import RoadCargo
import Testing

/// A passage is one vehicle's stay at the lane, arrival to leaving: every
/// request and report about it carries the same id, so central decides
/// about the stay (a bundle the passage claimed stays the passage's, and an
/// Unladen press after it is UNLADEN_CONFLICT, never CLEARED UNLADEN).
@Suite("Passages")
struct PassageTests {
    func requests(_ actions: [LaneAction]) -> [LaneDecisionRequest] {
        actions.compactMap { if case .requestDecision(let r) = $0 { r } else { nil } }
    }

    func reports(_ actions: [LaneAction]) -> [LaneReport] {
        actions.compactMap { if case .report(let r) = $0 { r } else { nil } }
    }

    @Test(
        "every request about one vehicle, and its leaving, carry one passage id; the next vehicle gets another"
    )
    func onePassagePerStay() throws {
        var d = Driver()
        let first = try #require(requests(d.feed(.vehicleArrived(plate("AB1234"), source: .central))).first)
        #expect(first.passageID == first.requestID)
        // Unladen pressed while pending, then a timeout and offline mode: three more requests.
        let unladen = try #require(requests(d.feed(.buttonPressed(.unladen, kernelNanoseconds: 1))).first)
        d.feed(.timerFired(.decisionTimeout), after: 2)
        let offline = try #require(requests(d.feed(.offlineMode(on: true, officer: "o"))).first)
        for request in [unladen, offline] {
            #expect(request.passageID == first.passageID)
            #expect(request.requestID != first.requestID)
        }
        let left = reports(d.feed(.vehicleLeft))
        #expect(left.contains { if case .vehicleLeft(_, _, first.passageID) = $0 { true } else { false } })
        let next = try #require(requests(d.feed(.vehicleArrived(plate("CD5678"), source: .central))).first)
        #expect(next.passageID != first.passageID)
        #expect(next.passageID > offline.requestID)
    }

    @Test("the passage is journaled with the arrival, every request and the leaving")
    func journaled() throws {
        var d = Driver()
        d.feed(.vehicleArrived(plate("AB1234"), source: .central))
        let passage = try #require(d.lane.currentRequestID)
        #expect(d.journal.filter { $0.kind == .arrival || $0.kind == .decisionRequested }.count == 2)
        for entry in d.journal where entry.kind == .arrival || entry.kind == .decisionRequested {
            #expect(entry.detail.contains("passage=\(passage)"))
        }
        d.feed(.buttonPressed(.unladen, kernelNanoseconds: 1))
        #expect(
            d.journal.first { $0.kind == .decisionRequested }?.detail.contains("passage=\(passage)") == true)
        d.feed(.vehicleLeft)
        #expect(d.journal.first { $0.kind == .vehicleLeft }?.detail.contains("passage=\(passage)") == true)
    }

    @Test("a lane restarted before a decision keeps the vehicle's passage for its new request")
    func recoveryKeepsPassage() throws {
        let recovered = RecoveredLane(
            open: true,
            vehicle: .init(
                vrn: plate("AB1234"), arrivedAt: t0, unladenPressed: false, shown: nil, passageID: 1_000),
            lastRequestID: 1_005)
        let (machine, actions) = LaneStateMachine.recovering(
            settings: testSettings, from: recovered, now: t0.addingTimeInterval(3))
        let request = try #require(requests(actions).first)
        #expect(request.passageID == 1_000)
        #expect(request.requestID > 1_005)
        var lane = machine
        let left = reports(lane.handle(.vehicleLeft, now: t0.addingTimeInterval(9)))
        #expect(left == [.vehicleLeft(vrn: plate("AB1234"), ubr: nil, passageID: 1_000)])
    }

    @Test("an offline decision taken for the vehicle is reported with passage, request and cache version")
    func offlineCrossingReported() throws {
        var d = Driver()
        d.feed(.offlineMode(on: true, officer: "o"))
        let request = try #require(requests(d.feed(.vehicleArrived(plate("AB1234"), source: .central))).first)
        var decided = decision(.cleared, .bundleOK)
        decided.notes = [.offline]
        let actions = d.feed(
            .offlineDecided(requestID: request.requestID, decision: decided, cacheVersion: testCacheVersion))
        let crossings = reports(actions).compactMap {
            if case .offlineCrossing(let c) = $0 { c } else { nil }
        }
        #expect(
            crossings == [
                OfflineCrossing(
                    passageID: request.passageID, requestID: request.requestID, vrn: plate("AB1234"),
                    arrivedAt: request.arrivedAt, unladenPressed: false, decidedAt: d.now, decision: decided,
                    cacheVersion: testCacheVersion)
            ])
        #expect(d.journal.first { $0.kind == .decisionReceived }?.detail.contains("cache=7.3") == true)
        #expect(
            d.lane.board.phase == .decided(instruction: .cleared, reason: .bundleOK, earliestCrossing: nil))
    }

    @Test("an offline decision for a superseded request is journaled late and never reported as a crossing")
    func supersededOfflineDecisionNotReported() throws {
        var d = Driver()
        d.feed(.offlineMode(on: true, officer: "o"))
        let old = try #require(requests(d.feed(.vehicleArrived(plate("AB1234"), source: .central))).first)
        d.feed(.buttonPressed(.unladen, kernelNanoseconds: 1))
        var decided = decision(.cleared, .bundleOK)
        decided.notes = [.offline]
        let actions = d.feed(
            .offlineDecided(requestID: old.requestID, decision: decided, cacheVersion: testCacheVersion))
        #expect(reports(actions).isEmpty)
        #expect(d.journal.map(\.kind) == [.decisionLate])
    }

    @Test("a decision from central is never reported as an offline crossing")
    func onlineDecisionNotReported() throws {
        var d = Driver()
        d.feed(.vehicleArrived(plate("AB1234"), source: .central))
        d.feed(.decide(.cleared, .bundleOK))
        #expect(
            d.lane.board.phase == .decided(instruction: .cleared, reason: .bundleOK, earliestCrossing: nil))
        #expect(!reports(d.last).contains { if case .offlineCrossing = $0 { true } else { false } })
    }
}
