import BoardLayout
import Foundation
import RoadCargo

// The vehicle flow: opening and closing, arrivals, the Unladen button,
// decisions and overrides (timers and rule 4 are in
// LaneStateMachine+Timers.swift, offline mode and the link mark in
// LaneStateMachine+Offline.swift).
extension LaneStateMachine {
    /// Instructions a decision may put on the boards; WELCOME, STOP and
    /// CLOSED are the lane's own states, never an answer about a vehicle.
    static let decisionInstructions: Set<Instruction> = [.cleared, .inspect, .dropManifest]

    mutating func open(officer: String, _ out: inout [LaneAction]) {
        switch state {
        case .closed:
            state = .idle(earlyPress: nil)
            out.journal(.laneOpened, officer: officer)
            draw(&out)
            out.append(.report(.laneOpened))
        case .idle, .vehicle:
            out.journal(
                .inputIgnored, vrn: currentVRN, officer: officer,
                detail: ["input": "open", "why": "the lane is already open"])
        }
    }

    /// An officer's close always takes effect: a lane officers believe closed
    /// must not stay open. A vehicle still there is journaled and reported as
    /// left, as if it had driven off.
    mutating func close(officer: String, now: Date, _ out: inout [LaneAction]) {
        var detail: Detail = [:]
        switch state {
        case .closed:
            out.journal(
                .inputIgnored, officer: officer,
                detail: ["input": "close", "why": "the lane is already closed"])
            return
        case .idle(let early):
            if let early {
                detail.add("unladen_press", "dropped (pressed at \(HongKongTime.iso8601(early.at)))")
                cancelTimer(.unladenGrace, &out)
                out.append(.setLamp(.unladen, on: false))
            }
        case .vehicle(let v):
            depart(v, why: "the lane was closed by \(officer)", &out)
        }
        state = .closed
        out.journal(.laneClosed, officer: officer, detail: detail)
        draw(&out)
        out.append(.report(.laneClosed))
    }

    mutating func arrive(_ vrn: VRN, source: ArrivalSource, now: Date, _ out: inout [LaneAction]) {
        switch state {
        case .closed:
            out.journal(
                .arrivalIgnored, vrn: vrn, detail: ["source": source.rawValue, "why": "the lane is closed"])
        case .idle(let early):
            begin(vrn, source: source, early: early, now: now, &out)
        case .vehicle(let v):
            // Central and a local reader may both report the same truck: a
            // second request would ask twice about one crossing.
            guard v.vrn != vrn else {
                out.journal(
                    .arrivalIgnored, vrn: vrn, requestID: v.request,
                    detail: ["source": source.rawValue, "why": "this vehicle is already at the lane"])
                return
            }
            depart(v, why: "superseded by the next arrival (\(vrn))", &out)
            begin(vrn, source: source, early: nil, now: now, &out)
        }
    }

    /// A new vehicle: STOP, a fresh request, the decision timeout, and the
    /// unladen grace unless a press before arrival is carried.
    mutating func begin(
        _ vrn: VRN, source: ArrivalSource, early: EarlyPress?, now: Date, _ out: inout [LaneAction]
    ) {
        var carried = false
        var arrival: Detail = ["source": source.rawValue]
        if let early {
            let age = now.timeIntervalSince(early.at)
            if age <= Self.seconds(settings.unladenGrace) {
                carried = true
                arrival.add("unladen", "pressed \(Self.milliseconds(age)) ms before arrival")
            } else {
                // The grace timer should have fired already; the time check
                // keeps the rule exact when it is late.
                out.journal(
                    .unladenGraceEnded, vrn: vrn,
                    detail: [
                        "why": "the Unladen press before arrival is older than the grace",
                        "pressed_at": HongKongTime.iso8601(early.at),
                    ])
                out.append(.setLamp(.unladen, on: false))
            }
        }
        let request = nextRequestID(now: now)
        let vehicle = Vehicle(
            vrn: vrn, passage: request, arrivedAt: now, unladenPressed: carried, request: request,
            step: .awaiting, superseded: [])
        state = .vehicle(vehicle)
        arrival.add("passage", "\(vehicle.passage)")
        out.journal(.arrival, vrn: vrn, detail: arrival)
        sendRequest(for: vehicle, supersedes: nil, why: nil, &out)
        if carried {
            cancelTimer(.unladenGrace, &out)
        } else {
            startTimer(.unladenGrace, after: settings.unladenGrace, &out)
        }
    }

    /// Journals and sends `vehicle.request` (already the lane's state) and
    /// (re)starts the decision timeout.
    mutating func sendRequest(
        for vehicle: Vehicle, supersedes: UInt64?, why: String?, _ out: inout [LaneAction]
    ) {
        var detail: Detail = [
            "passage": "\(vehicle.passage)", "unladen": "\(vehicle.unladenPressed)", "offline": "\(offline)",
            "arrived_at": HongKongTime.iso8601(vehicle.arrivedAt),
        ]
        if let supersedes { detail.add("supersedes", "\(supersedes)") }
        if let why { detail.add("why", why) }
        out.journal(.decisionRequested, vrn: vehicle.vrn, requestID: vehicle.request, detail: detail)
        // The request still goes: it waits in the outbox, and central's
        // answer is taken when the link is back, as after a timeout.
        let request = LaneAction.requestDecision(
            LaneDecisionRequest(
                PassageRequest(
                    requestID: vehicle.request, passageID: vehicle.passage, vrn: vehicle.vrn,
                    arrivedAt: vehicle.arrivedAt, unladenPressed: vehicle.unladenPressed),
                offline: offline))
        if linkKnownDown && !offline {
            // Rule 4 at once: waiting out the timeout for a link already
            // known to be down only keeps the driver waiting.
            giveUpWaiting(why: "the link to central is down", &out)
            out.append(request)
            return
        }
        draw(&out)
        out.append(request)
        startTimer(.decisionTimeout, after: settings.decisionTimeout, &out)
    }

    /// The vehicle is gone: journal and report it (with the UBR of the
    /// decision shown, so central marks the bundle used), stop its timers and
    /// return the AIOP to its defaults. Leaves the state idle.
    mutating func depart(_ v: Vehicle, why: String?, _ out: inout [LaneAction]) {
        var detail: Detail = ["step": v.step.name, "passage": "\(v.passage)"]
        if let why { detail.add("why", why) }
        var decisionID: UInt64?
        var decision: Decision?
        if case .shown(let id, let d, _) = v.step {
            decisionID = id
            decision = d
        }
        out.journal(
            .vehicleLeft, vrn: v.vrn, requestID: v.request, decisionID: decisionID, decision: decision,
            detail: detail)
        out.append(.report(.vehicleLeft(vrn: v.vrn, ubr: decision?.ubr, passageID: v.passage)))
        cancelTimer(.decisionTimeout, &out)
        cancelTimer(.unladenGrace, &out)
        if v.unladenPressed { out.append(.setLamp(.unladen, on: false)) }
        language = settings.defaultLanguage
        officerMessage = nil
        state = .idle(earlyPress: nil)
    }

    mutating func vehicleLeft(now: Date, _ out: inout [LaneAction]) {
        switch state {
        case .vehicle(let v):
            depart(v, why: nil, &out)
        case .closed, .idle:
            out.journal(.inputIgnored, detail: ["input": "vehicle_left", "why": "no vehicle at the lane"])
        }
    }

    mutating func press(
        _ button: LaneButton, kernelNanoseconds ns: UInt64, now: Date, _ out: inout [LaneAction]
    ) {
        switch button {
        case .unladen: pressUnladen(kernelNanoseconds: ns, now: now, &out)
        case .help: pressHelp(kernelNanoseconds: ns, now: now, &out)
        }
        // Central sees every edge, taken or not; the journal says which.
        out.append(.report(.buttonPressed(button, kernelNanoseconds: ns)))
    }

    /// An Unladen press counts from the grace time before an arrival until
    /// the grace time after it, and only until a decision is shown.
    mutating func pressUnladen(kernelNanoseconds ns: UInt64, now: Date, _ out: inout [LaneAction]) {
        let base: Detail = ["button": LaneButton.unladen.rawValue, "kernel_ns": "\(ns)"]
        switch state {
        case .closed:
            out.journal(.buttonIgnored, detail: base + ["why": "the lane is closed"])
        case .idle(.some(let early)):
            out.journal(
                .buttonIgnored,
                detail: base + [
                    "why": "double press: Unladen was pressed at \(HongKongTime.iso8601(early.at))"
                ])
        case .idle(.none):
            state = .idle(earlyPress: EarlyPress(at: now, kernelNanoseconds: ns))
            out.journal(.buttonPressed, detail: base + ["taken": "before arrival"])
            out.append(.setLamp(.unladen, on: true))
            startTimer(.unladenGrace, after: settings.unladenGrace, &out)
            draw(&out)
        case .vehicle(var v):
            guard !v.unladenPressed else {
                out.journal(
                    .buttonIgnored, vrn: v.vrn, requestID: v.request,
                    detail: base + ["why": "double press: Unladen was already taken for this vehicle"])
                return
            }
            let why: String
            switch v.step {
            case .shown:
                out.journal(
                    .buttonIgnored, vrn: v.vrn, requestID: v.request,
                    detail: base + ["why": "a decision is already shown for this vehicle"])
                return
            case .awaiting:
                why = "Unladen pressed while request \(v.request) was pending"
            case .unavailable:
                why = "Unladen pressed after request \(v.request) timed out"
            case .held(let decisionID, let held):
                why =
                    "Unladen pressed within the grace; held \(held.reason.rawValue) answer \(decisionID) dropped"
            }
            guard timers.contains(.unladenGrace) else {
                out.journal(
                    .buttonIgnored, vrn: v.vrn, requestID: v.request,
                    detail: base + ["why": "the unladen grace after arrival is over"])
                return
            }
            let old = v.request
            v.unladenPressed = true
            v.superseded.append(old)
            v.request = nextRequestID(now: now)
            v.step = .awaiting
            state = .vehicle(v)
            out.journal(
                .buttonPressed, vrn: v.vrn, requestID: old, detail: base + ["taken": "within the grace"])
            out.append(.setLamp(.unladen, on: true))
            cancelTimer(.unladenGrace, &out)
            sendRequest(for: v, supersedes: old, why: why, &out)
        }
    }

    /// Where a decision came from.
    enum DecisionSource {
        case central
        /// The lane's own bundle cache (offline mode), at this version.
        case cache(CacheVersion?)
    }

    mutating func decisionReceived(
        requestID: UInt64, decisionID: UInt64, decision: Decision, from source: DecisionSource, now: Date,
        _ out: inout [LaneAction]
    ) {
        guard case .vehicle(var v) = state else {
            out.journal(
                .decisionLate, requestID: requestID, decisionID: decisionID, decision: decision,
                detail: ["why": "no vehicle at the lane"])
            return
        }
        guard requestID == v.request else {
            let superseded = v.superseded.contains(requestID)
            out.journal(
                .decisionLate, vrn: superseded ? v.vrn : nil, requestID: requestID, decisionID: decisionID,
                decision: decision,
                detail: [
                    "why": superseded
                        ? "superseded by request \(v.request)"
                        : "not a request of the vehicle at the lane (current request \(v.request))"
                ])
            return
        }
        guard Self.decisionInstructions.contains(decision.instruction) else {
            out.journal(
                .inputIgnored, vrn: v.vrn, requestID: requestID, decisionID: decisionID, decision: decision,
                detail: [
                    "input": "decision",
                    "why":
                        "\(decision.instruction.rawValue) is not an answer about a vehicle; the decision timeout stands",
                ])
            return
        }
        let holds = shouldHold(v, decision)
        var held: Detail = holds ? ["held": "until Unladen is pressed or the unladen grace ends"] : [:]
        if case .cache(let version) = source { held.add("cache", version.map(\.description) ?? "none") }
        switch v.step {
        case .awaiting:
            out.journal(
                .decisionReceived, vrn: v.vrn, requestID: requestID, decisionID: decisionID,
                decision: decision,
                detail: held + decision.detailPairs)
            reportOffline(v, decision: decision, from: source, now: now, &out)
            cancelTimer(.decisionTimeout, &out)
            accept(&v, decisionID: decisionID, decision: decision, now: now, &out)
        case .unavailable:
            out.journal(
                .decisionLate, vrn: v.vrn, requestID: requestID, decisionID: decisionID, decision: decision,
                detail: ["why": "after the decision timeout; taken now"] + held + decision.detailPairs)
            reportOffline(v, decision: decision, from: source, now: now, &out)
            accept(&v, decisionID: decisionID, decision: decision, now: now, &out)
        case .held(let answered, _), .shown(let answered, _, nil):
            out.journal(
                .decisionLate, vrn: v.vrn, requestID: requestID, decisionID: decisionID, decision: decision,
                detail: ["why": "request \(requestID) was already answered by decision \(answered)"])
        case .shown(_, _, .some(let officer)):
            out.journal(
                .decisionLate, vrn: v.vrn, requestID: requestID, decisionID: decisionID, decision: decision,
                detail: ["why": "the override by \(officer) stands"])
        }
    }

    /// A no-bundle answer waits while the driver may still press Unladen;
    /// anything else is shown at once.
    func shouldHold(_ v: Vehicle, _ decision: Decision) -> Bool {
        guard !v.unladenPressed, timers.contains(.unladenGrace) else { return false }
        switch decision.reason {
        case .noBundle, .paperManifest: return true
        case .bundleOK, .unladen, .unladenConflict, .earlyCrossing, .ccrnExpired, .targeted, .random,
            .systemUnavailable, .officerRelease, .officerDivert:
            return false
        }
    }

    mutating func accept(
        _ v: inout Vehicle, decisionID: UInt64, decision: Decision, now: Date, _ out: inout [LaneAction]
    ) {
        if shouldHold(v, decision) {
            v.step = .held(decisionID: decisionID, decision)
            state = .vehicle(v)
            draw(&out)
        } else {
            cancelTimer(.unladenGrace, &out)
            show(&v, decisionID: decisionID, decision: decision, officer: nil, now: now, &out)
        }
    }

    /// Puts a decision on the boards, then journals and reports that it is there.
    mutating func show(
        _ v: inout Vehicle, decisionID: UInt64, decision: Decision, officer: String?, now: Date,
        _ out: inout [LaneAction]
    ) {
        v.step = .shown(decisionID: decisionID, decision, officer: officer)
        state = .vehicle(v)
        last = LastDecision(
            vrn: v.vrn, requestID: v.request, decisionID: decisionID, decision: decision, shownAt: now,
            officer: officer)
        draw(&out)
        out.journal(
            .instructionShown, vrn: v.vrn, requestID: v.request, decisionID: decisionID, decision: decision,
            officer: officer, detail: decision.detailPairs)
        out.append(.report(.instructionShown(decision.instruction, decisionID: decisionID)))
    }

    /// Rule 5. Only the current vehicle's request can be overridden, and only
    /// as a release (CLEARED, OFFICER_RELEASE) or a diversion (INSPECT,
    /// OFFICER_DIVERT).
    mutating func override(
        requestID: UInt64, instruction: Instruction, reason: Reason, officer: String, text: String, now: Date,
        _ out: inout [LaneAction]
    ) {
        func refuse(_ why: String, _ v: Vehicle?) {
            out.journal(
                .inputIgnored, vrn: v?.vrn, requestID: requestID, instruction: instruction, reason: reason,
                officer: officer, detail: ["input": "override", "why": "refused: \(why)", "text": text])
        }
        guard case .vehicle(var v) = state else {
            refuse("no vehicle at the lane", nil)
            return
        }
        guard requestID == v.request else {
            refuse(
                v.superseded.contains(requestID)
                    ? "request \(requestID) was superseded by request \(v.request)"
                    : "request \(requestID) is not the current vehicle's (current request \(v.request))", v)
            return
        }
        switch (instruction, reason) {
        case (.cleared, .officerRelease), (.inspect, .officerDivert):
            break
        default:
            refuse(
                "an override is CLEARED with OFFICER_RELEASE or INSPECT with OFFICER_DIVERT, not "
                    + "\(instruction.rawValue) with \(reason.rawValue)", v)
            return
        }
        let replacedID: UInt64
        let replaced: Decision?
        switch v.step {
        case .awaiting, .unavailable:
            replacedID = 0
            replaced = nil
        case .held(let id, let d), .shown(let id, let d, _):
            replacedID = id
            replaced = d
        }
        // The bundle the replaced decision was made on still becomes used
        // when the vehicle leaves (rule 1), so its UBR stays with it.
        let decision = Decision(instruction: instruction, reason: reason, ubr: replaced?.ubr)
        cancelTimer(.decisionTimeout, &out)
        cancelTimer(.unladenGrace, &out)
        out.journal(
            .override, vrn: v.vrn, requestID: v.request, decisionID: replacedID, decision: decision,
            officer: officer,
            detail: [
                "text": text,
                "replaces": replaced.map { "\($0.instruction.rawValue)/\($0.reason.rawValue)" } ?? "none",
            ])
        show(&v, decisionID: replacedID, decision: decision, officer: officer, now: now, &out)
    }

    static func milliseconds(_ seconds: Double) -> Int64 {
        Int64((seconds * 1000).rounded())
    }
}

extension LaneStateMachine.Step {
    /// For journal details.
    var name: String {
        switch self {
        case .awaiting: "awaiting_decision"
        case .unavailable: "system_unavailable"
        case .held: "held_for_unladen"
        case .shown(_, _, nil): "decided"
        case .shown(_, _, .some): "overridden"
        }
    }
}
