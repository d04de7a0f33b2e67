import BoardLayout
import Foundation
import RoadCargo

/// What the journal says about a lane at the moment it stopped, rebuilt at
/// start-up (see `LaneJournal`) so that a restarted lane comes back safe.
public struct RecoveredLane: Sendable, Hashable {
    /// The vehicle that was at the lane and had not left.
    public struct Vehicle: Sendable, Hashable {
        public var vrn: VRN
        public var arrivedAt: Date
        public var unladenPressed: Bool
        /// The last decision shown for it, if one was.
        public var shown: ShownDecision?
        /// Its passage id; nil in a journal written before lanes had them
        /// (the restarted lane then gives it a new one).
        public var passageID: UInt64?

        public init(
            vrn: VRN, arrivedAt: Date, unladenPressed: Bool, shown: ShownDecision?, passageID: UInt64? = nil
        ) {
            self.passageID = passageID
            self.vrn = vrn
            self.arrivedAt = arrivedAt
            self.unladenPressed = unladenPressed
            self.shown = shown
        }
    }

    /// A decision that reached the boards.
    public struct ShownDecision: Sendable, Hashable {
        public var requestID: UInt64
        public var decisionID: UInt64
        public var decision: Decision

        public init(requestID: UInt64, decisionID: UInt64, decision: Decision) {
            self.requestID = requestID
            self.decisionID = decisionID
            self.decision = decision
        }
    }

    public var open: Bool
    public var offline: Bool
    public var vehicle: Vehicle?
    /// The highest request id ever journaled; new ids are above it.
    public var lastRequestID: UInt64
    /// A help call that had not ended.
    public var helpCallID: UInt64?

    public init(
        open: Bool, offline: Bool = false, vehicle: Vehicle? = nil, lastRequestID: UInt64 = 0,
        helpCallID: UInt64? = nil
    ) {
        self.open = open
        self.offline = offline
        self.vehicle = vehicle
        self.lastRequestID = lastRequestID
        self.helpCallID = helpCallID
    }
}

/// One lane's behaviour as a value: an input and the time in, the actions
/// its shell must perform out, in order. No clock, no I/O: `now` comes with
/// every input, and everything the lane must do (draw, journal, ask, report,
/// time) comes back as a ``LaneAction``.
///
/// Every input is journaled, including the ones the lane takes no action on
/// (`arrival_ignored`, `button_ignored`, `decision_late`, `input_ignored`),
/// so that an officer can always see what the lane saw. `docs/lane-states.md`
/// describes the states and transitions for officers and integrators.
public struct LaneStateMachine: Sendable, Hashable {
    /// Where the lane is in serving vehicles. The help call, link, offline
    /// mode, language and faults run beside it.
    enum State: Sendable, Hashable {
        /// CLOSED is shown; arrivals and Unladen presses are ignored.
        case closed
        /// WELCOME is shown. `earlyPress` is an Unladen press made before any
        /// vehicle arrived, carried by the next arrival if it comes within the
        /// unladen grace time.
        case idle(earlyPress: EarlyPress?)
        /// A vehicle is at the lane.
        case vehicle(Vehicle)
    }

    struct EarlyPress: Sendable, Hashable {
        var at: Date
        var kernelNanoseconds: UInt64
    }

    struct Vehicle: Sendable, Hashable {
        var vrn: VRN
        /// The vehicle's stay at the lane, arrival to leaving: every request
        /// about it carries this id, so central decides about the stay
        /// (docs/link-protocol.md, "Passages"). The first request's id.
        var passage: UInt64
        var arrivedAt: Date
        var unladenPressed: Bool
        /// The request whose answer the lane waits for or shows; the only id
        /// whose decisions and overrides count.
        var request: UInt64
        var step: Step
        /// Earlier requests for this vehicle (a press or offline mode asked
        /// again): their answers are journaled late and dropped.
        var superseded: [UInt64]

        /// The bundle the decision in hand was made on: it becomes used when
        /// the vehicle leaves, so it goes with the vehicle-left report.
        var ubr: UBR? {
            switch step {
            case .awaiting, .unavailable: nil
            case .held(_, let decision), .shown(_, let decision, _): decision.ubr
            }
        }
    }

    /// Where one vehicle's decision is.
    enum Step: Sendable, Hashable {
        /// STOP: the request is out, the decision timeout runs.
        case awaiting
        /// Rule 4: no answer in time; SYSTEM_UNAVAILABLE shown, officer alerted.
        /// A late answer for the same request is still shown.
        case unavailable
        /// A NO_BUNDLE or PAPER_MANIFEST answer kept back while the unladen
        /// grace runs, so an unladen driver can still press.
        case held(decisionID: UInt64, Decision)
        /// On the boards; `officer` is set when it is an override.
        case shown(decisionID: UInt64, Decision, officer: String?)
    }

    /// The help call as the lane tracks it.
    enum HelpCall: Sendable, Hashable {
        case idle
        case ringing(UInt64)
        case connected(UInt64, officer: String)
        /// An officer put the call on hold (before or after answering): no voice.
        case held(UInt64, officer: String?)

        var callID: UInt64? {
            switch self {
            case .idle: nil
            case .ringing(let id), .connected(let id, _), .held(let id, _): id
            }
        }
    }

    /// The decision most recently shown at this lane, kept after its vehicle
    /// left (for `status`).
    public struct LastDecision: Sendable, Hashable {
        public var vrn: VRN
        public var requestID: UInt64
        /// Central's decision id; for an override, the id of the decision it
        /// replaced, or 0 when there was none.
        public var decisionID: UInt64
        public var decision: Decision
        public var shownAt: Date
        /// Set when an officer's override put it there.
        public var officer: String?
    }

    /// The lane's settings. Settable: SIGHUP reloads timings and the default language; they apply
    /// from the next timer started or vehicle that leaves.
    public var settings: LaneSettings
    var state: State
    var offline = false
    var linkUp = false
    /// The link went down and has not come up since: a dead peer was
    /// detected. Not while it is only not up yet after a start, when the
    /// first session may be a moment away.
    var linkKnownDown = false
    var language: BoardState.Language
    var officerMessage: BoardState.OfficerMessage?
    var help = HelpCall.idle
    /// The timers the shell runs for this machine now; a timer that fires
    /// while not in here was cancelled or replaced and is ignored.
    var timers: Set<LaneTimer> = []
    var issuedRequestID: UInt64 = 0
    var issuedCallID: UInt64 = 0
    var faults: [String: String] = [:]
    var last: LastDecision?
    /// What the boards were last told to show; nil when nothing is drawn yet.
    var drawn: BoardState?

    /// A lane that has just started: CLOSED or WELCOME, link not yet up.
    /// The shell draws ``board`` once at start; later changes come as `.show`.
    public init(settings: LaneSettings, open: Bool) {
        self.settings = settings
        self.state = open ? .idle(earlyPress: nil) : .closed
        self.language = settings.defaultLanguage
        self.drawn = nil
        self.drawn = board
    }

    // MARK: - What the shell and the control socket read

    /// What the boards show now.
    public var board: BoardState {
        var vrn: VRN?
        var acknowledged = false
        let phase: BoardState.Phase
        switch state {
        case .closed:
            phase = .closed
        case .idle(let early):
            phase = .welcome
            acknowledged = early != nil
        case .vehicle(let v):
            vrn = v.vrn
            acknowledged = v.unladenPressed
            switch v.step {
            case .awaiting: phase = .stop(awaitingUnladen: false)
            case .unavailable: phase = .systemUnavailable
            case .held: phase = .stop(awaitingUnladen: true)
            case .shown(_, let d, _): phase = Self.phase(showing: d)
            }
        }
        let helpShown: BoardState.Help =
            switch help {
            case .idle: .idle
            case .ringing, .held: .ringing
            case .connected: .connected
            }
        return BoardState(
            phase: phase, vrn: vrn, unladenAcknowledged: acknowledged, help: helpShown,
            officerMessage: officerMessage, offline: offline, linkDown: !linkUp, language: language)
    }

    /// The lane is open (WELCOME or serving a vehicle).
    public var isOpen: Bool {
        if case .closed = state { return false }
        return true
    }

    /// An officer switched the lane to decide from its bundle cache.
    public var isOffline: Bool { offline }

    /// The link's session to central is up, as last reported.
    public var isLinkUp: Bool { linkUp }

    /// The vehicle at the lane, if one is.
    public var currentVRN: VRN? {
        if case .vehicle(let v) = state { return v.vrn }
        return nil
    }

    /// The request whose answer the lane is waiting for (also after the
    /// decision timeout, and while a held answer waits out the grace it is
    /// not pending).
    public var pendingRequestID: UInt64? {
        guard case .vehicle(let v) = state else { return nil }
        switch v.step {
        case .awaiting, .unavailable: return v.request
        case .held, .shown: return nil
        }
    }

    /// The current vehicle's request: the one an override must name.
    public var currentRequestID: UInt64? {
        if case .vehicle(let v) = state { return v.request }
        return nil
    }

    /// The highest request id this lane has issued (or recovered).
    public var lastRequestID: UInt64 { issuedRequestID }

    /// The decision shown most recently, also after its vehicle left.
    public var lastDecision: LastDecision? { last }

    /// The help call that has not ended, if any.
    public var helpCallID: UInt64? { help.callID }

    /// Device faults reported and not cleared: code to text.
    public var activeFaults: [String: String] { faults }

    /// A short name of the lane's state for `status` and logs: `closed`,
    /// `welcome`, `stop`, `awaiting_unladen`, `system_unavailable`, `decided`.
    public var phaseName: String {
        switch state {
        case .closed: "closed"
        case .idle: "welcome"
        case .vehicle(let v):
            switch v.step {
            case .awaiting: "stop"
            case .held: "awaiting_unladen"
            case .unavailable: "system_unavailable"
            case .shown: "decided"
            }
        }
    }

    // MARK: - Input

    /// Takes one input at time `now` (the shell's wall clock, Hong Kong time
    /// at the edges) and returns what the shell must do, in order: journal
    /// entries come before what depends on them.
    public mutating func handle(_ input: LaneInput, now: Date) -> [LaneAction] {
        var out: [LaneAction] = []
        switch input {
        case .open(let officer): open(officer: officer, &out)
        case .close(let officer): close(officer: officer, now: now, &out)
        case .vehicleArrived(let vrn, let source): arrive(vrn, source: source, now: now, &out)
        case .vehicleLeft: vehicleLeft(now: now, &out)
        case .buttonPressed(let button, let ns): press(button, kernelNanoseconds: ns, now: now, &out)
        case .buttonReleased(let button, let ns):
            out.journal(
                .buttonReleased, vrn: currentVRN, detail: ["button": button.rawValue, "kernel_ns": "\(ns)"])
            out.append(.report(.buttonReleased(button, kernelNanoseconds: ns)))
        case .decisionReceived(let requestID, let decisionID, let decision):
            decisionReceived(
                requestID: requestID, decisionID: decisionID, decision: decision, from: .central, now: now,
                &out)
        case .offlineDecided(let requestID, let decision, let cacheVersion):
            // Offline decisions take the request id as decision id: it is
            // unique at this lane, and central's ids never reach these.
            decisionReceived(
                requestID: requestID, decisionID: requestID, decision: decision,
                from: .cache(cacheVersion), now: now, &out)
        case .timerFired(let timer): timerFired(timer, now: now, &out)
        case .override(let requestID, let instruction, let reason, let officer, let text):
            override(
                requestID: requestID, instruction: instruction, reason: reason, officer: officer, text: text,
                now: now, &out)
        case .offlineMode(let on, let officer): offlineMode(on: on, officer: officer, now: now, &out)
        case .linkChanged(let up): linkChanged(up: up, &out)
        case .helpAnswered(let callID, let officer): helpAnswered(callID: callID, officer: officer, &out)
        case .helpHeld(let callID): helpHeld(callID: callID, &out)
        case .helpEnded(let callID): helpEnded(callID: callID, &out)
        case .officerMessage(let callID, let phraseID, let text):
            officerMessage(callID: callID, phraseID: phraseID, text: text, &out)
        case .languageSelected(let language):
            self.language = language
            out.journal(.languageSelected, vrn: currentVRN, detail: ["language": language.rawValue])
        case .fault(let code, let text):
            faults[code] = text
            out.journal(.fault, vrn: currentVRN, detail: ["code": code, "text": text])
            out.append(.report(.fault(code: code, text: text)))
        case .faultCleared(let code):
            let wasActive = faults.removeValue(forKey: code) != nil
            out.journal(.faultCleared, detail: ["code": code, "was_active": "\(wasActive)"])
            out.append(.report(.faultCleared(code: code)))
        case .clockStepped(let from, let to):
            // The journal's times jump here; a reader (the campaign's
            // checker, an officer) needs to see where and by how much.
            out.journal(
                .clockStepped, vrn: currentVRN,
                detail: ["from_offset_s": "\(from)", "to_offset_s": "\(to)", "step_s": "\(to - from)"])
        }
        draw(&out)
        return out
    }

    // MARK: - Shared steps

    /// Appends `.show` when the board differs from what was last drawn.
    mutating func draw(_ out: inout [LaneAction]) {
        let now = board
        guard now != drawn else { return }
        drawn = now
        out.append(.show(now))
    }

    mutating func startTimer(_ timer: LaneTimer, after: Duration, _ out: inout [LaneAction]) {
        timers.insert(timer)
        out.append(.startTimer(timer, after: after))
    }

    mutating func cancelTimer(_ timer: LaneTimer, _ out: inout [LaneAction]) {
        guard timers.remove(timer) != nil else { return }
        out.append(.cancelTimer(timer))
    }

    /// A request id above every id issued before, also across restarts:
    /// the wall clock in microseconds, or one more than the last if the
    /// clock stood still or went back.
    mutating func nextRequestID(now: Date) -> UInt64 {
        issuedRequestID = max(issuedRequestID + 1, Self.microseconds(now))
        return issuedRequestID
    }

    /// A help call id, chosen the same way as request ids.
    mutating func nextCallID(now: Date) -> UInt64 {
        issuedCallID = max(issuedCallID + 1, Self.microseconds(now))
        return issuedCallID
    }

    static func microseconds(_ date: Date) -> UInt64 {
        let us = (date.timeIntervalSince1970 * 1_000_000).rounded(.down)
        // Beyond year 10 000 or before 1970 the clock is wrong; the counter
        // alone still keeps ids increasing.
        guard us > 0, us < 253_402_300_800_000_000 else { return 0 }
        return UInt64(us)
    }

    static func phase(showing decision: Decision) -> BoardState.Phase {
        .decided(
            instruction: decision.instruction, reason: decision.reason,
            earliestCrossing: decision.reason == .earlyCrossing ? decision.earliestCrossing : nil)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
