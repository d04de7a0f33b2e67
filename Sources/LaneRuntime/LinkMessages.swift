import Foundation
import LaneCore
import LinkCore
import RoadCargo

/// How the lane's reports and requests travel on the link, and how central's
/// messages enter the lane: the one place that knows both vocabularies.
enum LinkMessages {
    /// The link message for a decision request or a report; nil for a
    /// request the lane answers itself (offline mode).
    static func outbound(_ action: LaneAction, lane: LaneID, now: Date) -> LaneMessage? {
        switch action {
        case .requestDecision(let request) where !request.offline:
            return .decisionRequest(DecisionRequestMessage(lane: lane, request: request.request))
        case .report(let report):
            return message(for: report, now: now)
        default:
            return nil
        }
    }

    static func message(for report: LaneReport, now: Date) -> LaneMessage {
        func event(_ kind: LaneEvent.Kind) -> LaneMessage { .laneEvent(LaneEvent(occurredAt: now, kind)) }
        switch report {
        case .buttonPressed(let button, let ns):
            return event(.buttonPressed(button.link, kernelNanoseconds: ns))
        case .buttonReleased(let button, let ns):
            return event(.buttonReleased(button.link, kernelNanoseconds: ns))
        case .instructionShown(let instruction, let decisionID):
            return event(.instructionShown(instruction, decisionID: decisionID))
        case .vehicleLeft(let vrn, let ubr, let passageID):
            return event(.vehicleLeft(vrn: vrn, ubr: ubr, passageID: passageID))
        case .offlineCrossing(let crossing): return .offlineCrossing(crossing)
        case .laneOpened: return event(.laneOpened)
        case .laneClosed: return event(.laneClosed)
        case .fault(let code, let text):
            return event(.fault(code: LaneFaultCode(code).rawValue, text: "\(code): \(text)"))
        case .faultCleared(let code):
            // LaneEvent has no "cleared" kind in protocol version 1; the text says it.
            return event(.fault(code: LaneFaultCode(code).rawValue, text: "\(code): cleared"))
        case .officerAlert(let reason, let text):
            return event(
                .fault(code: LaneFaultCode.officerAlert.rawValue, text: "\(reason.rawValue): \(text)"))
        case .helpRing(let callID): return .helpCall(.ring(callID: callID))
        case .helpEnd(let callID): return .helpCall(.end(callID: callID))
        }
    }

    /// The lane input for a message from central; nil for messages the shell
    /// handles itself (cache pushes, time sync) or ignores.
    static func input(for message: LaneMessage) -> LaneInput? {
        switch message {
        case .decision(let d):
            return .decisionReceived(requestID: d.requestID, decisionID: d.decisionID, decision: d.decision)
        case .vehicleArrival(let arrival):
            return .vehicleArrived(arrival.vrn, source: .central)
        case .officerCommand(.override(let requestID, let instruction, let reason, let officer, let text)):
            return .override(
                requestID: requestID, instruction: instruction, reason: reason, officer: officer, text: text)
        case .officerCommand(.openLane(let officer)): return .open(officer: officer)
        case .officerCommand(.closeLane(let officer)): return .close(officer: officer)
        case .officerCommand(.offlineMode(let on, let officer)): return .offlineMode(on: on, officer: officer)
        case .helpCall(.answer(let callID, let officer)):
            return .helpAnswered(callID: callID, officer: officer)
        case .helpCall(.hold(let callID)): return .helpHeld(callID: callID)
        case .helpCall(.end(let callID)): return .helpEnded(callID: callID)
        case .helpCall(.officerMessage(let callID, let phraseID, let text)):
            return .officerMessage(callID: callID, phraseID: phraseID, text: text)
        default:
            return nil
        }
    }
}

extension LaneCore.LaneButton {
    var link: LinkCore.LaneButton {
        switch self {
        case .unladen: .unladen
        case .help: .help
        }
    }
}

/// Fault codes on the link (`LaneEvent.fault`): the lane's string codes
/// mapped to stable numbers central can count by.
public enum LaneFaultCode: UInt16, Sendable, CaseIterable {
    case other = 0
    /// Rule 4 and similar: an officer is needed at the lane now.
    case officerAlert = 1
    case stuckButton = 10
    case gpioLost = 11
    case displayFailed = 20
    case readerFailed = 30
    case journalFailed = 40
    case voiceFailed = 50
    /// SIGHUP found the config broken; the lane runs on the one it had.
    case configNotReloaded = 60

    /// The code for a lane fault's string code (`stuck_button`, `gpio_lost`, ...).
    /// A code with a qualifier (`stuck_button:help`) maps by its first part.
    public init(_ code: String) {
        let base = code.split(separator: ":", maxSplits: 1).first.map(String.init) ?? code
        self = Self.allCases.first { $0.name == base } ?? .other
    }

    /// The string code the journal and the control socket use.
    public var name: String {
        switch self {
        case .other: "other"
        case .officerAlert: "officer_alert"
        case .stuckButton: "stuck_button"
        case .gpioLost: "gpio_lost"
        case .displayFailed: "display_failed"
        case .readerFailed: "reader_failed"
        case .journalFailed: "journal_failed"
        case .voiceFailed: "voice_failed"
        case .configNotReloaded: "config_not_reloaded"
        }
    }
}
