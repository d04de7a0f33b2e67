import BoardLayout
import Foundation
import RoadCargo

extension LaneStateMachine {
    /// The lane after a restart (kill -9, power loss), rebuilt from what the
    /// journal says, and what the shell must do to make the lane safe:
    ///
    /// - a vehicle that was shown a decision is shown it again (nothing is
    ///   asked or reported twice);
    /// - a vehicle without a shown decision gets STOP and a new request (a new
    ///   id; the answer to the old one is journaled late and dropped), with
    ///   whatever is left of its unladen grace;
    /// - a vehicle at a closed lane is journaled and reported as left;
    /// - a help call that had not ended is ended and reported (its voice path
    ///   died with the process; the driver can press Help again);
    /// - both lamps are set to what the state says.
    ///
    /// The first action is a `.journal(.recovered)` entry saying all this;
    /// the actions include `.show` of the first board.
    public static func recovering(
        settings: LaneSettings, from recovered: RecoveredLane, now: Date
    ) -> (LaneStateMachine, [LaneAction]) {
        var m = LaneStateMachine(settings: settings, open: recovered.open)
        // Nothing is on the boards after a restart: the first board is drawn.
        m.drawn = nil
        m.offline = recovered.offline
        m.issuedRequestID = max(recovered.lastRequestID, recovered.vehicle?.shown?.requestID ?? 0)
        m.issuedCallID = recovered.helpCallID ?? 0
        var rest: [LaneAction] = []
        var summary: Detail = ["open": "\(recovered.open)", "offline": "\(recovered.offline)"]

        if let callID = recovered.helpCallID {
            rest.journal(.helpEnded, callID: callID, detail: ["why": "the lane restarted during the call"])
            rest.append(.report(.helpEnd(callID: callID)))
            summary.add("help_call", "\(callID) ended")
        }

        var newRequest: Vehicle?
        switch (recovered.open, recovered.vehicle) {
        case (_, nil):
            summary.add("vehicle", "none")
        case (false, .some(let found)):
            rest.journal(
                .vehicleLeft, vrn: found.vrn, requestID: found.shown?.requestID,
                decisionID: found.shown?.decisionID, decision: found.shown?.decision,
                detail: ["why": "the lane was closed when it restarted"])
            rest.append(
                .report(
                    .vehicleLeft(
                        vrn: found.vrn, ubr: found.shown?.decision.ubr,
                        passageID: found.passageID ?? found.shown?.requestID ?? 0)))
            summary.add("vehicle", "\(found.vrn) taken as left: the lane is closed")
        case (true, .some(let found)):
            if let shown = found.shown {
                let v = Vehicle(
                    vrn: found.vrn, passage: found.passageID ?? shown.requestID, arrivedAt: found.arrivedAt,
                    unladenPressed: found.unladenPressed, request: shown.requestID,
                    step: .shown(decisionID: shown.decisionID, shown.decision, officer: nil), superseded: [])
                m.state = .vehicle(v)
                m.last = LastDecision(
                    vrn: found.vrn, requestID: shown.requestID, decisionID: shown.decisionID,
                    decision: shown.decision, shownAt: now, officer: nil)
                summary.add(
                    "vehicle",
                    "\(found.vrn): \(shown.decision.instruction.rawValue)/\(shown.decision.reason.rawValue) "
                        + "shown again (request \(shown.requestID), decision \(shown.decisionID))")
            } else {
                // The same passage: central decides the new request with what
                // the old ones claimed (a journal without passage ids starts one).
                let request = m.nextRequestID(now: now)
                let v = Vehicle(
                    vrn: found.vrn, passage: found.passageID ?? request, arrivedAt: found.arrivedAt,
                    unladenPressed: found.unladenPressed, request: request, step: .awaiting, superseded: [])
                m.state = .vehicle(v)
                newRequest = v
                summary.add("vehicle", "\(found.vrn): no decision shown; STOP and new request \(v.request)")
            }
        }

        var out: [LaneAction] = []
        out.journal(.recovered, vrn: m.currentVRN, requestID: m.currentRequestID, detail: summary)
        out += rest
        out.append(.setLamp(.unladen, on: m.board.unladenAcknowledged))
        out.append(.setLamp(.help, on: false))
        if let v = newRequest {
            m.sendRequest(
                for: v, supersedes: nil, why: "the lane restarted before a decision was shown", &out)
            // What is left of the grace counts from the arrival, not the
            // restart; never more than the whole grace, since a clock stepped
            // back since the arrival would make it run for the step's length.
            let left = min(
                settings.unladenGrace,
                settings.unladenGrace - .milliseconds(milliseconds(now.timeIntervalSince(v.arrivedAt))))
            if !v.unladenPressed, left > .zero {
                m.startTimer(.unladenGrace, after: left, &out)
            }
        }
        m.draw(&out)
        return (m, out)
    }
}
