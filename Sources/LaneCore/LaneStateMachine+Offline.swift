import Foundation
import RoadCargo

// Offline mode (clearance rule 4): switching it, the offline crossings the
// lane reports for reconciliation, and the link mark, which never switches
// offline mode itself.
extension LaneStateMachine {
    /// Rule 4: only an officer switches offline mode, never the link.
    /// Switching it on re-asks for a vehicle still waiting, now from the
    /// bundle cache, since that is why officers switch it on.
    mutating func offlineMode(on: Bool, officer: String, now: Date, _ out: inout [LaneAction]) {
        guard on != offline else {
            out.journal(
                .inputIgnored, vrn: currentVRN, officer: officer,
                detail: ["input": "offline_mode", "why": "offline mode is already \(on ? "on" : "off")"])
            return
        }
        offline = on
        out.journal(.offlineMode, vrn: currentVRN, officer: officer, detail: ["on": "\(on)"])
        guard on, case .vehicle(var v) = state else { return }
        switch v.step {
        case .awaiting, .unavailable:
            let old = v.request
            v.superseded.append(old)
            v.request = nextRequestID(now: now)
            v.step = .awaiting
            state = .vehicle(v)
            sendRequest(for: v, supersedes: old, why: "offline mode switched on by \(officer)", &out)
        case .held, .shown:
            break
        }
    }

    mutating func linkChanged(up: Bool, _ out: inout [LaneAction]) {
        guard up != linkUp else {
            out.journal(
                .inputIgnored, detail: ["input": "link", "why": "the link is already \(up ? "up" : "down")"])
            return
        }
        linkUp = up
        linkKnownDown = !up
        out.journal(up ? .linkUp : .linkDown, vrn: currentVRN)
    }

    /// Rule 4: a decision the lane made itself and took for its vehicle goes
    /// to central, in the same commit as its journal entry, to be reconciled.
    func reportOffline(
        _ v: Vehicle, decision: Decision, from source: DecisionSource, now: Date, _ out: inout [LaneAction]
    ) {
        guard case .cache(let version) = source else { return }
        out.append(
            .report(
                .offlineCrossing(
                    OfflineCrossing(
                        passageID: v.passage, requestID: v.request, vrn: v.vrn, arrivedAt: v.arrivedAt,
                        unladenPressed: v.unladenPressed, decidedAt: now, decision: decision,
                        cacheVersion: version))))
    }
}
