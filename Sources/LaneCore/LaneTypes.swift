import BoardLayout
import Foundation
import RoadCargo

/// The buttons the lane reads (GPIO lines, or the virtual backend).
public enum LaneButton: String, Sendable, Hashable, CaseIterable, Codable {
    case unladen
    case help
}

/// Where a vehicle arrival came from.
public enum ArrivalSource: String, Sendable, Hashable, Codable {
    /// Immigration clearance for this lane, forwarded by central over the link.
    case central
    /// The lane's own reader feed (serial line or TCP).
    case reader
    /// The control socket or the simulator (only when the config allows it).
    case simulated
}

/// The lane's fixed settings, from its config file.
public struct LaneSettings: Sendable, Hashable {
    public var lane: LaneID
    /// Rule 4: how long the lane waits for central's decision (default 2 s).
    public var decisionTimeout: Duration
    /// How long a driver without a bundle has to press Unladen after arrival
    /// (default 20 s); a press up to this long before the arrival counts too.
    public var unladenGrace: Duration
    /// The AIOP language that returns when a vehicle leaves.
    public var defaultLanguage: BoardState.Language

    public init(
        lane: LaneID, decisionTimeout: Duration = .seconds(2), unladenGrace: Duration = .seconds(20),
        defaultLanguage: BoardState.Language = .traditionalChinese
    ) {
        self.lane = lane
        self.decisionTimeout = decisionTimeout
        self.unladenGrace = unladenGrace
        self.defaultLanguage = defaultLanguage
    }
}

/// The lane's timers. The shell runs at most one of each id; starting one
/// again replaces it.
public enum LaneTimer: String, Sendable, Hashable, CaseIterable, Codable {
    /// Rule 4: the decision did not come in time.
    case decisionTimeout
    /// The unladen grace time after an arrival (or after a press before one) ended.
    case unladenGrace
    /// The shell's own: while the journal cannot be written (a full disk),
    /// try it again. The machine never starts it and never sees it fire.
    case journalProbe
}

/// Everything that can happen to a lane: the machine's only input.
public enum LaneInput: Sendable, Hashable {
    /// An officer (or the lane's own start-up config) opens or closes the lane.
    case open(officer: String)
    case close(officer: String)
    /// A vehicle with this VRN (already normalised) is at the lane.
    case vehicleArrived(VRN, source: ArrivalSource)
    /// The vehicle drove off (exit loop, officer, simulator).
    case vehicleLeft
    /// A debounced button edge with the kernel's event timestamp.
    case buttonPressed(LaneButton, kernelNanoseconds: UInt64)
    case buttonReleased(LaneButton, kernelNanoseconds: UInt64)
    /// Central's answer to a request.
    case decisionReceived(requestID: UInt64, decisionID: UInt64, decision: Decision)
    /// Offline mode: the lane's own answer from its bundle cache (version
    /// `cacheVersion`, nil when it holds none). Taken like central's answer,
    /// with the request id as decision id, and reported to central as an
    /// offline crossing to reconcile.
    case offlineDecided(requestID: UInt64, decision: Decision, cacheVersion: CacheVersion?)
    /// A timer the machine started has fired.
    case timerFired(LaneTimer)
    /// Rule 5: an officer overrides the current decision.
    case override(requestID: UInt64, instruction: Instruction, reason: Reason, officer: String, text: String)
    /// Rule 4: an officer switches the lane's offline mode.
    case offlineMode(on: Bool, officer: String)
    /// The link's session came up or went down.
    case linkChanged(up: Bool)
    /// Help-call signalling from central.
    case helpAnswered(callID: UInt64, officer: String)
    case helpHeld(callID: UInt64)
    case helpEnded(callID: UInt64)
    case officerMessage(callID: UInt64, phraseID: UInt16, text: String)
    /// The driver chose an AIOP language.
    case languageSelected(BoardState.Language)
    /// A device fault (stuck button, vanished GPIO chip, display lost) or its end.
    case fault(code: String, text: String)
    case faultCleared(code: String)
    /// The lane's wall clock was stepped from one offset to another (seconds
    /// added to the host's time; a fault campaign's injected step). Journaled
    /// only: timers run on the monotonic clock and do not move.
    case clockStepped(fromSeconds: Int64, toSeconds: Int64)
}

/// What a journal entry records. Raw values are the journal's `kind` column.
public enum JournalKind: String, Sendable, Hashable, CaseIterable, Codable {
    case laneOpened = "lane_opened"
    case laneClosed = "lane_closed"
    case arrival
    case arrivalIgnored = "arrival_ignored"
    case vehicleLeft = "vehicle_left"
    case buttonPressed = "button_pressed"
    case buttonReleased = "button_released"
    case buttonIgnored = "button_ignored"
    case decisionRequested = "decision_requested"
    case decisionReceived = "decision_received"
    case decisionLate = "decision_late"
    case decisionTimeout = "decision_timeout"
    case instructionShown = "instruction_shown"
    case override
    case offlineMode = "offline_mode"
    case linkUp = "link_up"
    case linkDown = "link_down"
    case helpRing = "help_ring"
    case helpAnswered = "help_answered"
    case helpHeld = "help_held"
    case helpEnded = "help_ended"
    case officerMessage = "officer_message"
    case languageSelected = "language_selected"
    case fault
    case faultCleared = "fault_cleared"
    /// After a restart: what the lane found and did (see
    /// ``LaneStateMachine/recovering(settings:from:now:)``).
    case recovered
    /// An input the lane took no action on, and why (a timer that was no
    /// longer running, a help signal for another call, an override refused,
    /// a repeat of the current mode). Arrivals, buttons and late decisions
    /// have kinds of their own.
    case inputIgnored = "input_ignored"
    /// The unladen grace time ended: a held no-bundle answer is shown, or a
    /// press made before any arrival lapses.
    case unladenGraceEnded = "unladen_grace_ended"
    /// The lane's clock was stepped: entries after it carry the new time.
    case clockStepped = "clock_stepped"
}

/// One journal line: what happened, to which vehicle and request, and the
/// detail an officer needs, as `key=value` text. The shell adds the time.
public struct JournalEntry: Sendable, Hashable {
    public var kind: JournalKind
    public var vrn: VRN?
    public var requestID: UInt64?
    public var decisionID: UInt64?
    public var instruction: Instruction?
    public var reason: Reason?
    public var officer: String?
    public var detail: String
    /// The whole decision, on entries that carry one (received, late, held,
    /// shown, override, vehicle left): recovery shows it again from this,
    /// earliest crossing and UBR included, without parsing `detail`.
    public var decision: Decision?
    /// The help call the entry is about (help_* and officer_message entries).
    public var callID: UInt64?

    public init(
        _ kind: JournalKind, vrn: VRN? = nil, requestID: UInt64? = nil, decisionID: UInt64? = nil,
        instruction: Instruction? = nil, reason: Reason? = nil, officer: String? = nil, detail: String = "",
        decision: Decision? = nil, callID: UInt64? = nil
    ) {
        self.kind = kind
        self.vrn = vrn
        self.requestID = requestID
        self.decisionID = decisionID
        self.instruction = instruction
        self.reason = reason
        self.officer = officer
        self.detail = detail
        self.decision = decision
        self.callID = callID
    }
}

/// A decision request the shell must deliver: to central over the link, or,
/// in offline mode, to the lane's own decision core over its bundle cache.
/// Its fields read through to the ``PassageRequest`` (`request.vrn`).
@dynamicMemberLookup
public struct LaneDecisionRequest: Sendable, Hashable {
    /// What the lane asks, under its request and passage ids.
    public var request: PassageRequest
    /// True in offline mode: decide locally from the bundle cache and tag OFFLINE.
    public var offline: Bool

    public init(_ request: PassageRequest, offline: Bool) {
        self.request = request
        self.offline = offline
    }

    public subscript<T>(dynamicMember field: KeyPath<PassageRequest, T>) -> T { request[keyPath: field] }
}

/// What the shell reports to central about the lane (it becomes a link
/// `LaneEvent` or help-call signal and goes through the outbox).
public enum LaneReport: Sendable, Hashable {
    case buttonPressed(LaneButton, kernelNanoseconds: UInt64)
    case buttonReleased(LaneButton, kernelNanoseconds: UInt64)
    case instructionShown(Instruction, decisionID: UInt64)
    /// The vehicle of passage `passageID` left; `ubr` is the bundle of the
    /// decision it was shown.
    case vehicleLeft(vrn: VRN, ubr: UBR?, passageID: UInt64)
    /// A decision the lane made offline and took for its vehicle, for central
    /// to reconcile (clearance rule 4).
    case offlineCrossing(OfflineCrossing)
    case laneOpened
    case laneClosed
    case fault(code: String, text: String)
    /// A fault reported earlier has ended.
    case faultCleared(code: String)
    case helpRing(callID: UInt64)
    case helpEnd(callID: UInt64)
    /// Rule 4: an officer is needed at this lane now.
    case officerAlert(reason: Reason, text: String)
}

/// What the machine asks its shell to do, in order.
public enum LaneAction: Sendable, Hashable {
    /// Write a journal entry (durably, before anything that depends on it).
    case journal(JournalEntry)
    /// Draw this on the boards (only emitted when it differs from the last).
    case show(BoardState)
    /// Ask for a decision.
    case requestDecision(LaneDecisionRequest)
    /// Tell central something (through the outbox).
    case report(LaneReport)
    case startTimer(LaneTimer, after: Duration)
    case cancelTimer(LaneTimer)
    /// Switch a button's lamp (an optional output line).
    case setLamp(LaneButton, on: Bool)
    /// Start or stop the intercom's voice path for a help call.
    case startVoice(callID: UInt64)
    case stopVoice(callID: UInt64)
}
