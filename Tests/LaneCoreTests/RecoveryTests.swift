import BoardLayout
import Foundation
import LaneCore
import RoadCargo
import Testing

/// After kill -9 the lane comes back from what its journal says, safe:
/// STOP and a new request for a vehicle without a shown decision, the
/// shown decision again otherwise.
@Suite("Recovery after a restart")
struct RecoveryTests {
    let now = t0.addingTimeInterval(5)
    /// An id "from the future": a clock set back must not reuse ids.
    let lastID: UInt64 = 1_790_000_100_000_000

    func recover(_ r: RecoveredLane) -> (LaneStateMachine, [String], [LaneAction]) {
        let (m, actions) = LaneStateMachine.recovering(settings: testSettings, from: r, now: now)
        return (m, actions.map(summary), actions)
    }

    @Test("an open lane with no vehicle shows WELCOME")
    func idle() throws {
        let (m, got, actions) = recover(RecoveredLane(open: true, lastRequestID: lastID))
        #expect(
            got == [
                "journal recovered", "lamp unladen off", "lamp help off", "show WELCOME link-down",
            ])
        #expect(m.lastRequestID == lastID)
        guard case .journal(let entry) = actions[0] else {
            Issue.record("first action is not the journal"); return
        }
        #expect(entry.detail == "open=true offline=false vehicle=none")
    }

    @Test("a closed, offline lane comes back closed and offline")
    func closedOffline() {
        let (m, got, _) = recover(RecoveredLane(open: false, offline: true))
        #expect(got.last == "show CLOSED offline link-down")
        #expect(m.isOpen == false && m.isOffline == true)
    }

    @Test("a vehicle without a shown decision gets STOP and a new request above every earlier id")
    func vehicleWithoutDecision() throws {
        let arrived = t0.addingTimeInterval(-3)
        let (m, got, actions) = recover(
            RecoveredLane(
                open: true,
                vehicle: .init(vrn: plate("AB1234"), arrivedAt: arrived, unladenPressed: false, shown: nil),
                lastRequestID: lastID))
        #expect(
            got == [
                "journal recovered", "lamp unladen off", "lamp help off", "journal decision_requested",
                "show STOP AB1234 link-down", "request", "start decisionTimeout 2s", "start unladenGrace 12s",
            ])
        let request = try #require(
            actions.compactMap { if case .requestDecision(let r) = $0 { r } else { nil } }.first)
        #expect(request.requestID == lastID + 1)
        #expect(request.arrivedAt == arrived)
        #expect(m.pendingRequestID == lastID + 1)
        // The old request's answer is dropped; the new one is shown.
        var lane = m
        let old = lane.handle(
            .decisionReceived(requestID: lastID, decisionID: 1, decision: decision(.cleared, .bundleOK)),
            now: now)
        #expect(old.map(summary) == ["journal decision_late"])
        let new = lane.handle(
            .decisionReceived(requestID: lastID + 1, decisionID: 2, decision: decision(.inspect, .targeted)),
            now: now)
        #expect(new.map(summary).contains("show INSPECT/TARGETED AB1234 link-down"))
    }

    @Test("an Unladen press before the restart is asked again and needs no grace")
    func vehicleWithPress() throws {
        let (m, got, actions) = recover(
            RecoveredLane(
                open: true, offline: true,
                vehicle: .init(
                    vrn: plate("AB1234"), arrivedAt: t0.addingTimeInterval(-30), unladenPressed: true,
                    shown: nil)))
        #expect(
            got == [
                "journal recovered", "lamp unladen on", "lamp help off", "journal decision_requested",
                "show STOP AB1234 ack offline link-down", "request unladen offline",
                "start decisionTimeout 2s",
            ])
        #expect(actions.count == 7)
        #expect(m.board.unladenAcknowledged)
    }

    @Test(
        "an arrival stamped after now (the clock stepped back since) gets the whole grace, not the step's length"
    )
    func arrivalAfterNow() {
        let (_, got, _) = recover(
            RecoveredLane(
                open: true,
                vehicle: .init(
                    vrn: plate("AB1234"), arrivedAt: now.addingTimeInterval(3600), unladenPressed: false,
                    shown: nil)))
        #expect(got.contains("start unladenGrace 20s"), "\(got)")
    }

    @Test("a grace that ran out during the restart is not started again")
    func graceOver() {
        let (_, got, _) = recover(
            RecoveredLane(
                open: true,
                vehicle: .init(
                    vrn: plate("AB1234"), arrivedAt: t0.addingTimeInterval(-25), unladenPressed: false,
                    shown: nil)))
        #expect(!got.contains { $0.hasPrefix("start unladenGrace") })
    }

    @Test("a vehicle shown a decision is shown it again; nothing is asked or reported again")
    func vehicleWithDecision() throws {
        let shown = RecoveredLane.ShownDecision(
            requestID: lastID, decisionID: 9, decision: decision(.cleared, .bundleOK))
        let (m, got, _) = recover(
            RecoveredLane(
                open: true,
                vehicle: .init(
                    vrn: plate("AB1234"), arrivedAt: t0, unladenPressed: false, shown: shown,
                    passageID: lastID - 7),
                lastRequestID: lastID - 5))
        #expect(
            got == [
                "journal recovered", "lamp unladen off", "lamp help off",
                "show CLEARED/BUNDLE_OK AB1234 link-down",
            ])
        #expect(m.lastDecision?.decisionID == 9)
        #expect(m.lastRequestID == lastID)
        #expect(m.currentRequestID == lastID)
        // Leaving still reports the UBR and the journaled passage, so
        // central marks the bundle that passage claimed used.
        var lane = m
        #expect(
            lane.handle(.vehicleLeft, now: now).contains(
                .report(.vehicleLeft(vrn: plate("AB1234"), ubr: testUBR, passageID: lastID - 7))))
    }

    @Test("a vehicle recorded at a closed lane is taken as left")
    func vehicleAtClosedLane() {
        let (m, got, _) = recover(
            RecoveredLane(
                open: false,
                vehicle: .init(vrn: plate("AB1234"), arrivedAt: t0, unladenPressed: false, shown: nil)))
        #expect(
            got == [
                "journal recovered", "journal vehicle_left", "report left AB1234", "lamp unladen off",
                "lamp help off", "show CLOSED link-down",
            ])
        #expect(m.currentVRN == nil)
    }

    @Test("a help call that had not ended is ended and reported")
    func helpCall() throws {
        let (m, got, actions) = recover(RecoveredLane(open: true, helpCallID: 77))
        #expect(
            got == [
                "journal recovered", "journal help_ended", "report help-end", "lamp unladen off",
                "lamp help off",
                "show WELCOME link-down",
            ])
        #expect(actions.contains(.report(.helpEnd(callID: 77))))
        #expect(m.helpCallID == nil)
        var lane = m
        let ring = lane.handle(
            .buttonPressed(.help, kernelNanoseconds: 1), now: Date(timeIntervalSince1970: 0))
        #expect(ring.contains(.report(.helpRing(callID: 78))))
    }
}
