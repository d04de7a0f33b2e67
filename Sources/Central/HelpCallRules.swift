import BoardLayout
import CargoStore
import Foundation
import LinkCore
import RoadCargo

/// What may happen to a help call, as a pure function: the call, an input
/// and the time give the new call, the step to journal and the signals for
/// the lane. ``HelpDesk`` stores and sends; nothing here does.
public enum HelpCallInput: Sendable, Hashable {
    case answer(by: Account)
    case message(by: Account, phraseID: UInt16, text: String)
    case end(by: Account)
    /// The lane ended the call (it restarted, or sent end).
    case endedByLane(why: String)
    /// Unanswered past the escalation time.
    case escalate
}

/// Why an officer's step on a call was refused. Each maps to one HTTP status.
public struct HelpCallRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The call's state forbids it (taken, ended, not yet answered).
        case conflict
        /// This officer may not (another control point, another's call).
        case forbidden
        /// The input itself is wrong (unknown phrase, text too long).
        case invalid
    }

    public var kind: Kind
    public var detail: String

    public var description: String { detail }
}

/// Longest free text an officer may add to a phrase: one AIOP line.
public let helpMessageMaximumText = 80

extension HelpCallRecord {
    /// The call after `input` at `now`, the step that says so, and what the
    /// lane must be told. A repeated answer by the owner changes nothing and
    /// signals nothing (a double click, or a retry after a lost response).
    public func applying(_ input: HelpCallInput, at now: Date) throws(HelpCallRefusal)
        -> (call: HelpCallRecord, step: HelpCallStep?, signals: [HelpCallSignal])
    {
        var call = self
        switch input {
        case .answer(let officer):
            try mayAct(officer, "answer")
            switch state {
            case .ended:
                throw refusal(.conflict, "call \(id) from lane \(lane) has ended")
            case .answered where self.officer?.lowercased() == officer.name.lowercased():
                return (call, nil, [])
            case .answered:
                throw refusal(
                    .conflict,
                    "call \(id) from lane \(lane) was already answered by \(self.officer ?? "another officer")"
                )
            case .ringing:
                call.state = .answered
                call.officer = officer.name
                call.answeredAt = now
                return (
                    call, HelpCallStep(step: "answer", actor: officer.name, at: now),
                    [.answer(callID: laneCallID, officer: officer.name)]
                )
            }

        case .message(let officer, let phraseID, let text):
            try mayAct(officer, "send a message on")
            try mustOwn(officer, "send a message on")
            guard OfficerPhrase.phrase(id: phraseID) != nil else {
                let known = OfficerPhrase.all.map { "\($0.id)" }.joined(separator: ", ")
                throw refusal(.invalid, "phrase \(phraseID) is not in the phrase list (\(known))")
            }
            let limit = TextLimit(characters: helpMessageMaximumText)
            guard !text.contains(where: \.isNewline) else {
                throw refusal(.invalid, "the free text is one line of \(limit); this one has a line break")
            }
            guard limit.allows(text) else {
                throw refusal(
                    .invalid, "the free text is one line of \(limit); this one \(limit.measured(text))")
            }
            call.messages.append(Message(phraseID: phraseID, text: text, officer: officer.name, at: now))
            return (
                call,
                HelpCallStep(
                    step: "message", actor: officer.name, details: ["phrase": "\(phraseID)", "text": text],
                    at: now),
                [.officerMessage(callID: laneCallID, phraseID: phraseID, text: text)]
            )

        case .end(let officer):
            try mayAct(officer, "end")
            try mustOwn(officer, "end")
            call.end(by: officer.name, at: now)
            return (call, HelpCallStep(step: "end", actor: officer.name, at: now), [.end(callID: laneCallID)])

        case .endedByLane(let why):
            guard state != .ended else { return (call, nil, []) }
            call.end(by: "lane", at: now)
            return (call, HelpCallStep(step: "end", actor: "lane", details: ["why": why], at: now), [])

        case .escalate:
            guard state == .ringing, escalatedAt == nil else { return (call, nil, []) }
            call.escalatedAt = now
            let waited = Int(now.timeIntervalSince(rangAt).rounded())
            return (
                call,
                HelpCallStep(step: "escalate", actor: "central", details: ["waited_s": "\(waited)"], at: now),
                []
            )
        }
    }

    /// Whether a ringing call has waited `after` and not yet escalated.
    public func isEscalationDue(at now: Date, after: Duration) -> Bool {
        state == .ringing && escalatedAt == nil
            && now.timeIntervalSince(rangAt) >= Double(after.components.seconds)
                + Double(after.components.attoseconds) / 1e18
    }

    /// Whether `officer` may see and act on this call at all.
    public func isVisible(to officer: Account) -> Bool {
        officer.controlPoint == nil || officer.controlPoint == controlPoint
    }

    private mutating func end(by actor: String, at now: Date) {
        state = .ended
        endedAt = now
        endedBy = actor
    }

    private func mayAct(_ officer: Account, _ verb: String) throws(HelpCallRefusal) {
        guard officer.role == .officer else {
            throw refusal(
                .forbidden,
                "only an officer may \(verb) a help call; \(officer.name) is a \(officer.role.rawValue)")
        }
        guard isVisible(to: officer) else {
            throw refusal(
                .forbidden,
                "\(officer.name) answers calls at \(officer.controlPoint?.rawValue ?? "?") only; call \(id) is from lane \(lane) at \(controlPoint)"
            )
        }
    }

    private func mustOwn(_ officer: Account, _ verb: String) throws(HelpCallRefusal) {
        switch state {
        case .ended:
            throw refusal(.conflict, "call \(id) from lane \(lane) has ended")
        case .ringing:
            throw refusal(.conflict, "answer call \(id) before you \(verb) it")
        case .answered where self.officer?.lowercased() != officer.name.lowercased():
            throw refusal(
                .forbidden,
                "call \(id) belongs to \(self.officer ?? "another officer"); only they may \(verb) it")
        case .answered:
            return
        }
    }

    private func refusal(_ kind: HelpCallRefusal.Kind, _ detail: String) -> HelpCallRefusal {
        HelpCallRefusal(kind: kind, detail: detail)
    }
}
