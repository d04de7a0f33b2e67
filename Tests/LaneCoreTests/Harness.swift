import BoardLayout
import Foundation
import LaneCore
import RoadCargo
import Testing

/// 2026-09-21T22:13:20+08:00: request ids derived from it are 1_790_000_000_xxx_xxx.
let t0 = Date(timeIntervalSince1970: 1_790_000_000)
let testSettings = LaneSettings(lane: try! LaneID("LMC-IN-01"))
let testUBR = UBR(validated: "1234567897")
let testCacheVersion = CacheVersion(generation: 7, sequence: 3)

func plate(_ raw: String) -> VRN { try! VRN(raw) }

/// A request named by its place in a scenario, because ids come from the clock.
enum Req: Sendable, Hashable {
    /// The lane's current request (`currentRequestID`).
    case current
    /// The first, second, ... request the lane issued in the scenario (0-based).
    case issued(Int)
    /// An id the lane never issued.
    case unknown
}

/// One step of a scenario, as a person would describe it.
enum Ev: Sendable, Hashable {
    case open, close, leave
    case arrive(String, ArrivalSource = .central)
    case press(LaneButton)
    case release(LaneButton)
    /// A decision for the request; a bundled reason carries ``testUBR``.
    case decide(Instruction, Reason, Req = .current)
    case decideEarly(Date)
    case decideOffline(Instruction, Reason)
    case fire(LaneTimer)
    case override(Instruction, Reason, Req = .current)
    case offline(Bool)
    case link(Bool)
    /// Help signals for the lane's own call (or another one).
    case answer, hold, end, message(UInt16)
    case answerOther, endOther, messageOther
    case language(BoardState.Language)
    case fault(String)
    case faultCleared(String)
}

/// Feeds a machine as its shell would, keeping what a test needs to name:
/// the request and call ids it issued, and a running decision id.
struct Driver {
    var lane: LaneStateMachine
    var now: Date
    var requests: [UInt64] = []
    var calls: [UInt64] = []
    var nextDecisionID: UInt64 = 101
    var last: [LaneAction] = []

    init(open: Bool = true, linkUp: Bool = true, settings: LaneSettings = testSettings, now: Date = t0) {
        lane = LaneStateMachine(settings: settings, open: open)
        self.now = now
        if linkUp { feed(.link(true)) }
    }

    /// Feeds one step 100 ms after the previous one; returns its actions, summarised.
    @discardableResult
    mutating func feed(_ ev: Ev, after seconds: Double = 0.1) -> [String] {
        now = now.addingTimeInterval(seconds)
        let actions = lane.handle(input(for: ev), now: now)
        record(actions)
        return actions.map(summary)
    }

    /// Feeds a raw input.
    @discardableResult
    mutating func feed(_ input: LaneInput, after seconds: Double = 0.1) -> [LaneAction] {
        now = now.addingTimeInterval(seconds)
        let actions = lane.handle(input, now: now)
        record(actions)
        return actions
    }

    mutating func record(_ actions: [LaneAction]) {
        last = actions
        for action in actions {
            switch action {
            case .requestDecision(let r): requests.append(r.requestID)
            case .report(.helpRing(let id)): calls.append(id)
            default: break
            }
        }
    }

    func id(_ req: Req) -> UInt64 {
        switch req {
        case .current: lane.currentRequestID ?? 999
        case .issued(let n): requests[n]
        case .unknown: 42
        }
    }

    var call: UInt64 { calls.last ?? 7 }

    /// The journal entries of the last step.
    var journal: [JournalEntry] {
        last.compactMap { if case .journal(let e) = $0 { e } else { nil } }
    }

    mutating func input(for ev: Ev) -> LaneInput {
        switch ev {
        case .open: return .open(officer: "officer-1")
        case .close: return .close(officer: "officer-1")
        case .leave: return .vehicleLeft
        case .arrive(let raw, let source): return .vehicleArrived(plate(raw), source: source)
        case .press(let b): return .buttonPressed(b, kernelNanoseconds: 5_000)
        case .release(let b): return .buttonReleased(b, kernelNanoseconds: 6_000)
        case .decide(let instruction, let reason, let req):
            return .decisionReceived(
                requestID: id(req), decisionID: takeDecisionID(), decision: decision(instruction, reason))
        case .decideEarly(let earliest):
            return .decisionReceived(
                requestID: id(.current), decisionID: takeDecisionID(),
                decision: Decision(
                    instruction: .inspect, reason: .earlyCrossing, ubr: testUBR, earliestCrossing: earliest))
        case .decideOffline(let instruction, let reason):
            var d = decision(instruction, reason)
            d.notes = [.offline]
            return .offlineDecided(requestID: id(.current), decision: d, cacheVersion: testCacheVersion)
        case .fire(let timer): return .timerFired(timer)
        case .override(let instruction, let reason, let req):
            return .override(
                requestID: id(req), instruction: instruction, reason: reason, officer: "officer-2",
                text: "seen the papers")
        case .offline(let on): return .offlineMode(on: on, officer: "officer-3")
        case .link(let up): return .linkChanged(up: up)
        case .answer: return .helpAnswered(callID: call, officer: "officer-4")
        case .hold: return .helpHeld(callID: call)
        case .end: return .helpEnded(callID: call)
        case .message(let phrase): return .officerMessage(callID: call, phraseID: phrase, text: "")
        case .answerOther: return .helpAnswered(callID: 5, officer: "officer-4")
        case .endOther: return .helpEnded(callID: 5)
        case .messageOther: return .officerMessage(callID: 5, phraseID: 1, text: "")
        case .language(let l): return .languageSelected(l)
        case .fault(let code): return .fault(code: code, text: "button held 30 s")
        case .faultCleared(let code): return .faultCleared(code: code)
        }
    }

    mutating func takeDecisionID() -> UInt64 {
        defer { nextDecisionID += 1 }
        return nextDecisionID
    }
}

func decision(_ instruction: Instruction, _ reason: Reason) -> Decision {
    let bundled: Set<Reason> = [.bundleOK, .unladenConflict, .earlyCrossing, .ccrnExpired]
    return Decision(instruction: instruction, reason: reason, ubr: bundled.contains(reason) ? testUBR : nil)
}

/// One line per action, short enough to write expected tables by hand.
func summary(_ action: LaneAction) -> String {
    switch action {
    case .journal(let e): return "journal \(e.kind.rawValue)"
    case .show(let b): return "show \(describe(b))"
    case .requestDecision(let r):
        return (["request"] + (r.unladenPressed ? ["unladen"] : []) + (r.offline ? ["offline"] : []))
            .joined(separator: " ")
    case .report(let r): return "report \(describe(r))"
    case .startTimer(let t, let d): return "start \(t.rawValue) \(describe(d))"
    case .cancelTimer(let t): return "cancel \(t.rawValue)"
    case .setLamp(let b, let on): return "lamp \(b.rawValue) \(on ? "on" : "off")"
    case .startVoice: return "voice on"
    case .stopVoice: return "voice off"
    }
}

func describe(_ d: Duration) -> String {
    let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
}

func describe(_ r: LaneReport) -> String {
    switch r {
    case .buttonPressed(let b, _): "press \(b.rawValue)"
    case .buttonReleased(let b, _): "release \(b.rawValue)"
    case .instructionShown(let i, _): "shown \(i.rawValue)"
    case .vehicleLeft(let vrn, let ubr, _): "left \(vrn)\(ubr == nil ? "" : " ubr")"
    case .offlineCrossing(let c): "offline-crossing \(c.vrn) \(c.decision.instruction.rawValue)"
    case .laneOpened: "opened"
    case .laneClosed: "closed"
    case .fault(let code, _): "fault \(code)"
    case .faultCleared(let code): "fault-cleared \(code)"
    case .helpRing: "help-ring"
    case .helpEnd: "help-end"
    case .officerAlert(let reason, _): "officer-alert \(reason.rawValue)"
    }
}

/// `STOP AB1234 ack help=ringing`: the phase, the plate, then the marks.
func describe(_ b: BoardState) -> String {
    var parts: [String]
    switch b.phase {
    case .closed: parts = ["CLOSED"]
    case .welcome: parts = ["WELCOME"]
    case .stop(let awaiting): parts = [awaiting ? "STOP invite-unladen" : "STOP"]
    case .systemUnavailable: parts = ["SYSTEM_UNAVAILABLE"]
    case .decided(let i, let r, let earliest):
        parts = [
            "\(i.rawValue)/\(r.rawValue)" + (earliest.map { "@" + HongKongTime.displayString($0) } ?? "")
        ]
    }
    if let vrn = b.vrn { parts.append(vrn.value) }
    if b.unladenAcknowledged { parts.append("ack") }
    if b.help != .idle { parts.append("help=\(b.help)") }
    if let m = b.officerMessage { parts.append("msg=\(m.phraseID)") }
    if b.offline { parts.append("offline") }
    if b.linkDown { parts.append("link-down") }
    if b.language != testSettings.defaultLanguage { parts.append("lang=\(b.language.rawValue)") }
    return parts.joined(separator: " ")
}

/// A table row: a step and the actions it must produce, in order.
struct Step: Sendable {
    var ev: Ev
    var expect: [String]
    var after: Double = 0.1
}

func step(_ ev: Ev, _ expect: String..., after: Double = 0.1) -> Step {
    Step(ev: ev, expect: expect, after: after)
}

func step(_ ev: Ev, _ expect: [String], after: Double = 0.1) -> Step {
    Step(ev: ev, expect: expect, after: after)
}

/// A named table of steps and the board it must end on.
struct Scenario: Sendable, CustomTestStringConvertible {
    var name: String
    var open = true
    var steps: [Step]
    var board: String

    var testDescription: String { name }

    func run() {
        var d = Driver(open: open)
        for (n, s) in steps.enumerated() {
            let got = d.feed(s.ev, after: s.after)
            #expect(got == s.expect, "step \(n + 1) (\(s.ev)) of \"\(name)\"")
        }
        #expect(describe(d.lane.board) == board, "final board of \"\(name)\"")
    }
}

// The action lists that recur in the tables.

/// An arrival at an open lane: STOP, journal, request, both timers.
func arrival(_ vrn: String, _ marks: String = "", request: String = "request") -> [String] {
    [
        "journal arrival", "journal decision_requested", "show STOP \(vrn)\(marks)", request,
        "start decisionTimeout 2s", "start unladenGrace 20s",
    ]
}

/// A decision for the current request shown at once.
/// An arrival while the link is known down: rule 4's STOP at once, the
/// request still queued for central, no decision timeout.
func unavailableAtOnce(_ vrn: String) -> [String] {
    [
        "journal arrival", "journal decision_requested", "journal decision_timeout",
        "show SYSTEM_UNAVAILABLE \(vrn) link-down", "report officer-alert SYSTEM_UNAVAILABLE", "request",
        "start unladenGrace 20s",
    ]
}

func shown(_ board: String, _ instruction: String, grace: Bool = true) -> [String] {
    ["journal decision_received", "cancel decisionTimeout"] + (grace ? ["cancel unladenGrace"] : [])
        + ["show \(board)", "journal instruction_shown", "report shown \(instruction)"]
}
