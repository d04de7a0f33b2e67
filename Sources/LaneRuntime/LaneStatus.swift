import BoardLayout
import Foundation
import LaneControl
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
    /// The central endpoint the link is up to (`host:port`); nil while down.
    public var central: String?
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
    /// `ok`; `full` while the journal's disk has no room (SQLITE_FULL);
    /// `failed` while it cannot be written for another reason. Either way
    /// the lane is closed and tries the journal again every 2 s.
    public var journal: String

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
    public var aiopInstruction: Instruction { board.aiopInstruction }

    /// The lane as the control socket's `status` gives it.
    public var control: ControlStatus {
        let shown = board.controlShown
        let help: String =
            switch board.help {
            case .idle: "idle"
            case .ringing: "ringing"
            case .connected: "connected"
            }
        return ControlStatus(
            lane: lane.id.value, direction: lane.direction.rawValue, controlPoint: lane.controlPoint.rawValue,
            open: open, offline: board.offline, link: linkUp.map { $0 ? "up" : "down" } ?? "none",
            xdb: board.xdbInstruction.rawValue, aiop: aiopInstruction.rawValue, phase: phase,
            reason: shown?.reason,
            earliestCrossing: shown?.earliestCrossing, vrn: board.vrn?.value,
            pendingRequestID: pendingRequestID,
            requestID: currentRequestID,
            lastDecision: lastDecision.map {
                ControlStatus.LastDecision(
                    instruction: $0.instruction.rawValue, reason: $0.reason.rawValue,
                    decisionID: $0.decisionID.map(String.init) ?? "", at: HongKongTime.iso8601($0.at))
            },
            help: help, unladenAcknowledged: board.unladenAcknowledged,
            officerMessage: board.officerMessage.map {
                ControlStatus.OfficerMessage(phraseID: String($0.phraseID), text: $0.text)
            },
            language: board.language.rawValue, drawn: drawn, faults: faults, outboxPending: outboxPending,
            offlineUnreconciled: offlineUnreconciled, passages: passages,
            latency: ControlStatus.Latency(
                arrivalToStop: latency.arrivalToStop?.control,
                arrivalToDecision: latency.arrivalToDecision?.control,
                pressToDisplay: latency.pressToDisplay?.control),
            now: HongKongTime.iso8601(now), central: central, journal: journal)
    }

    public func encode(to encoder: any Encoder) throws {
        try control.encode(to: encoder)
    }
}

extension BoardState {
    /// A decision or rule 4's STOP as `arrive` with `wait_ms` reports it; nil
    /// in every other phase.
    var controlShown: ControlArriveResult.Shown? {
        switch phase {
        case .decided(_, let reason, let earliest):
            ControlArriveResult.Shown(
                xdb: xdbInstruction.rawValue, aiop: aiopInstruction.rawValue, reason: reason.rawValue,
                earliestCrossing: earliest.map(HongKongTime.iso8601))
        case .systemUnavailable:
            ControlArriveResult.Shown(
                xdb: xdbInstruction.rawValue, aiop: aiopInstruction.rawValue,
                reason: Reason.systemUnavailable.rawValue)
        case .closed, .welcome, .stop:
            nil
        }
    }
}

extension LatencyFigures {
    var control: ControlStatus.Figures {
        ControlStatus.Figures(
            samples: samples, medianMicroseconds: medianMicroseconds, p99Microseconds: p99Microseconds)
    }
}

/// Why the lane refused an input.
public enum LaneControllerError: Error, CustomStringConvertible {
    /// A journal write failed earlier: the lane is closed until laned restarts.
    case journalFailed
    /// The lane's clock has no offset to step (a lane built without one).
    case clockFixed

    public var description: String {
        switch self {
        case .journalFailed: "the lane is closed: its journal cannot be written (fault journal_failed)"
        case .clockFixed: "this lane's clock cannot be stepped"
        }
    }
}
