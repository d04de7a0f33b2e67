import BoardLayout
import Foundation
import LaneCore
import RoadCargo

/// The lane now, as the control socket's `status` reports it
/// (docs/control-socket.md).
public struct LaneStatus: Sendable, Encodable {
    public struct Latency: Sendable, Encodable {
        /// Vehicle arrival received → STOP on the boards.
        public var arrivalToStop: LatencyFigures?
        /// Vehicle arrival received → its decision (or rule 4's STOP) on the boards.
        public var arrivalToDecision: LatencyFigures?
        /// Button edge received → the boards drawn for it.
        public var pressToDisplay: LatencyFigures?

        enum CodingKeys: String, CodingKey {
            case arrivalToStop = "arrival_to_stop"
            case arrivalToDecision = "arrival_to_decision"
            case pressToDisplay = "press_to_display"
        }
    }

    public var lane: Lane
    public var board: BoardState
    /// Whether the boards show `board` (false while drawing, or after a display fault).
    public var drawn: Bool
    /// Nil when the lane runs without a link.
    public var linkUp: Bool?
    public var pendingRequestID: UInt64?
    /// The request of the vehicle in the lane, answered or not (an officer's
    /// override names it).
    public var currentRequestID: UInt64?
    public var lastDecision: LaneController.ShownDecision?
    public var faults: [String]
    public var outboxPending: Int
    /// Offline crossings (decisions taken offline, rule 4) in the outbox
    /// that central has not yet acknowledged, so not yet reconciled.
    public var offlineUnreconciled: Int
    /// Vehicles that have left the lane since laned started.
    public var passages: Int
    public var latency: Latency
    public var now: Date

    public var open: Bool { board.phase != .closed }

    /// The phase's name in the control protocol.
    public var phase: String {
        switch board.phase {
        case .closed: "closed"
        case .welcome: "welcome"
        case .stop: "stop"
        case .systemUnavailable: "system_unavailable"
        case .decided: "decided"
        }
    }

    /// What the AIOP's main message is (it differs from the XDB for rule 4).
    public var aiopInstruction: Instruction {
        if case .systemUnavailable = board.phase { return .dropManifest }
        return board.xdbInstruction
    }

    enum CodingKeys: String, CodingKey {
        case lane, direction, controlPoint = "control_point", open, offline, link, xdb, aiop, phase, reason
        case earliestCrossing = "earliest_crossing", vrn, pendingRequestID = "pending_request_id"
        case currentRequestID = "request_id"
        case lastDecision = "last_decision", help, unladenAcknowledged = "unladen_acknowledged"
        case officerMessage = "officer_message", language, drawn, faults, outboxPending = "outbox_pending"
        case offlineUnreconciled = "offline_unreconciled"
        case passages, latency, now
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lane.id.value, forKey: .lane)
        try c.encode(lane.direction.rawValue, forKey: .direction)
        try c.encode(lane.controlPoint.rawValue, forKey: .controlPoint)
        try c.encode(open, forKey: .open)
        try c.encode(board.offline, forKey: .offline)
        try c.encode(linkUp.map { $0 ? "up" : "down" } ?? "none", forKey: .link)
        try c.encode(board.xdbInstruction.rawValue, forKey: .xdb)
        try c.encode(aiopInstruction.rawValue, forKey: .aiop)
        try c.encode(phase, forKey: .phase)
        switch board.phase {
        case .decided(_, let reason, let earliest):
            try c.encode(reason.rawValue, forKey: .reason)
            try c.encodeIfPresent(earliest.map(HongKongTime.iso8601), forKey: .earliestCrossing)
        case .systemUnavailable:
            try c.encode(Reason.systemUnavailable.rawValue, forKey: .reason)
        default:
            try c.encodeNil(forKey: .reason)
        }
        try c.encodeIfPresent(board.vrn?.value, forKey: .vrn)
        try c.encodeIfPresent(pendingRequestID, forKey: .pendingRequestID)
        try c.encodeIfPresent(currentRequestID, forKey: .currentRequestID)
        if let last = lastDecision {
            try c.encode(
                [
                    "instruction": last.instruction.rawValue, "reason": last.reason.rawValue,
                    "decision_id": last.decisionID.map(String.init) ?? "",
                    "at": HongKongTime.iso8601(last.at),
                ], forKey: .lastDecision)
        }
        let help: String =
            switch board.help {
            case .idle: "idle"
            case .ringing: "ringing"
            case .connected: "connected"
            }
        try c.encode(help, forKey: .help)
        try c.encode(board.unladenAcknowledged, forKey: .unladenAcknowledged)
        if let message = board.officerMessage {
            try c.encode(
                ["phrase_id": String(message.phraseID), "text": message.text], forKey: .officerMessage)
        }
        try c.encode(board.language.rawValue, forKey: .language)
        try c.encode(drawn, forKey: .drawn)
        try c.encode(faults, forKey: .faults)
        try c.encode(outboxPending, forKey: .outboxPending)
        try c.encode(offlineUnreconciled, forKey: .offlineUnreconciled)
        try c.encode(passages, forKey: .passages)
        try c.encode(latency, forKey: .latency)
        try c.encode(HongKongTime.iso8601(now), forKey: .now)
    }
}

/// Why the lane refused an input.
public enum LaneControllerError: Error, CustomStringConvertible {
    /// A journal write failed earlier: the lane is closed until laned restarts.
    case journalFailed

    public var description: String {
        switch self {
        case .journalFailed: "the lane is closed: its journal cannot be written (fault journal_failed)"
        }
    }
}
