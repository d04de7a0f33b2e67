import Foundation
import RoadCargo

// Rule 4 and the lane's own timers: the decision timeout, the Unladen
// grace, and a vehicle given up on at once when the link is known down.
extension LaneStateMachine {
    mutating func timerFired(_ timer: LaneTimer, now: Date, _ out: inout [LaneAction]) {
        let base: Detail = ["input": "timer", "timer": timer.rawValue]
        // A timer the shell could not cancel in time (it had already fired)
        // arrives here after the state moved on.
        guard timers.remove(timer) != nil else {
            out.journal(
                .inputIgnored, vrn: currentVRN, requestID: currentRequestID,
                detail: base + ["why": "the timer was cancelled or replaced before it fired"])
            return
        }
        switch (timer, state) {
        case (.decisionTimeout, .vehicle(let v)):
            switch v.step {
            case .awaiting:
                giveUpWaiting(why: nil, &out)
            case .unavailable, .held, .shown:
                out.journal(
                    .inputIgnored, vrn: v.vrn, requestID: v.request,
                    detail: base + ["why": "request \(v.request) is not waiting for an answer"])
            }
        case (.journalProbe, _):
            // Unreachable: the machine never starts it, so the guard above
            // journals it as ignored.
            break
        case (.decisionTimeout, .idle), (.decisionTimeout, .closed):
            out.journal(.inputIgnored, detail: base + ["why": "no vehicle at the lane"])
        case (.unladenGrace, .idle(.some(let early))):
            state = .idle(earlyPress: nil)
            out.journal(
                .unladenGraceEnded,
                detail: [
                    "why": "no vehicle arrived within the grace after the Unladen press",
                    "pressed_at": HongKongTime.iso8601(early.at),
                ])
            out.append(.setLamp(.unladen, on: false))
            draw(&out)
        case (.unladenGrace, .idle(.none)), (.unladenGrace, .closed):
            out.journal(.inputIgnored, detail: base + ["why": "no Unladen press or vehicle to time"])
        case (.unladenGrace, .vehicle(var v)):
            switch v.step {
            case .held(let decisionID, let decision):
                out.journal(
                    .unladenGraceEnded, vrn: v.vrn, requestID: v.request, decisionID: decisionID,
                    decision: decision,
                    detail: ["then": "the held answer is shown"])
                show(&v, decisionID: decisionID, decision: decision, officer: nil, now: now, &out)
            case .awaiting, .unavailable:
                out.journal(
                    .unladenGraceEnded, vrn: v.vrn, requestID: v.request,
                    detail: ["then": "no answer yet; it is shown when it comes"])
            case .shown:
                out.journal(
                    .inputIgnored, vrn: v.vrn, requestID: v.request,
                    detail: base + ["why": "a decision is already shown"])
            }
        }
    }

    /// Rule 4 for the vehicle waiting for central: STOP with
    /// SYSTEM_UNAVAILABLE, journaled as the decision timeout (with `why`
    /// when it is not the timeout itself), and an alert to the officers. A
    /// decision that comes later is still taken.
    mutating func giveUpWaiting(why: String?, _ out: inout [LaneAction]) {
        guard case .vehicle(var v) = state, case .awaiting = v.step else { return }
        v.step = .unavailable
        state = .vehicle(v)
        cancelTimer(.decisionTimeout, &out)
        let after = Self.milliseconds(Self.seconds(settings.decisionTimeout))
        var detail: Detail = why == nil ? ["after_ms": "\(after)"] : ["after_ms": "0"]
        if let why { detail.add("why", why) }
        out.journal(
            .decisionTimeout, vrn: v.vrn, requestID: v.request, instruction: .stop,
            reason: .systemUnavailable, detail: detail)
        draw(&out)
        out.append(
            .report(
                .officerAlert(
                    reason: .systemUnavailable,
                    text: "lane \(settings.lane): no decision for \(v.vrn) (request \(v.request)) "
                        + (why.map { "because \($0)" } ?? "within \(after) ms"))))
    }
}
