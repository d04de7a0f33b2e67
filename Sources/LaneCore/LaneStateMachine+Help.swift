import BoardLayout
import Foundation
import RoadCargo

// The help call runs beside the vehicle flow: nothing here touches `state`,
// and nothing in the vehicle flow touches `help` (a vehicle leaving clears
// only the officer message it may have been given).
extension LaneStateMachine {
    mutating func pressHelp(kernelNanoseconds ns: UInt64, now: Date, _ out: inout [LaneAction]) {
        let base: Detail = ["button": LaneButton.help.rawValue, "kernel_ns": "\(ns)"]
        switch help {
        case .idle:
            let id = nextCallID(now: now)
            help = .ringing(id)
            out.journal(.buttonPressed, vrn: currentVRN, callID: id, detail: base)
            out.journal(.helpRing, vrn: currentVRN, callID: id)
            out.append(.setLamp(.help, on: true))
            draw(&out)
            out.append(.report(.helpRing(callID: id)))
        case .ringing(let id), .connected(let id, _), .held(let id, _):
            out.journal(
                .buttonIgnored, vrn: currentVRN, callID: id,
                detail: base + ["why": "help call \(id) is already \(help.name)"])
        }
    }

    mutating func helpAnswered(callID: UInt64, officer: String, _ out: inout [LaneAction]) {
        switch help {
        case .ringing(callID), .held(callID, _):
            help = .connected(callID, officer: officer)
            out.journal(.helpAnswered, vrn: currentVRN, officer: officer, callID: callID)
            draw(&out)
            out.append(.startVoice(callID: callID))
        case .connected(callID, _):
            ignoreHelp("answer", callID: callID, officer: officer, why: "the call is already connected", &out)
        case .idle, .ringing, .connected, .held:
            ignoreHelp("answer", callID: callID, officer: officer, why: otherCall, &out)
        }
    }

    mutating func helpHeld(callID: UInt64, _ out: inout [LaneAction]) {
        switch help {
        case .connected(callID, let officer):
            help = .held(callID, officer: officer)
            out.journal(.helpHeld, vrn: currentVRN, officer: officer, callID: callID)
            draw(&out)
            out.append(.stopVoice(callID: callID))
        case .ringing(callID):
            help = .held(callID, officer: nil)
            out.journal(.helpHeld, vrn: currentVRN, callID: callID)
        case .held(callID, _):
            ignoreHelp("hold", callID: callID, officer: nil, why: "the call is already on hold", &out)
        case .idle, .ringing, .connected, .held:
            ignoreHelp("hold", callID: callID, officer: nil, why: otherCall, &out)
        }
    }

    mutating func helpEnded(callID: UInt64, _ out: inout [LaneAction]) {
        guard help.callID == callID else {
            ignoreHelp("end", callID: callID, officer: nil, why: otherCall, &out)
            return
        }
        let wasConnected = if case .connected = help { true } else { false }
        help = .idle
        officerMessage = nil
        out.journal(.helpEnded, vrn: currentVRN, callID: callID)
        if wasConnected { out.append(.stopVoice(callID: callID)) }
        out.append(.setLamp(.help, on: false))
        draw(&out)
    }

    mutating func officerMessage(callID: UInt64, phraseID: UInt16, text: String, _ out: inout [LaneAction]) {
        guard help.callID == callID else {
            ignoreHelp("officer_message", callID: callID, officer: nil, why: otherCall, &out)
            return
        }
        officerMessage = BoardState.OfficerMessage(phraseID: phraseID, text: text)
        out.journal(
            .officerMessage, vrn: currentVRN, callID: callID, detail: ["phrase": "\(phraseID)", "text": text])
    }

    private var otherCall: String {
        if let id = help.callID { return "not the lane's call (the lane's call is \(id))" }
        return "the lane has no help call"
    }

    private func ignoreHelp(
        _ input: String, callID: UInt64, officer: String?, why: String, _ out: inout [LaneAction]
    ) {
        out.journal(
            .inputIgnored, vrn: currentVRN, officer: officer, callID: callID,
            detail: ["input": "help_\(input)", "why": why])
    }
}

extension LaneStateMachine.HelpCall {
    var name: String {
        switch self {
        case .idle: "idle"
        case .ringing: "ringing"
        case .connected: "connected"
        case .held: "on hold"
        }
    }
}
