import Foundation
import RoadCargo

/// What the officers' console and the help desk keep in the store.
///
/// Kept apart from ``CargoRepository``'s cargo and lane records because it
/// is about people at desks, not vehicles; the one store implements both.
public protocol ConsoleRepository: Sendable {
    // MARK: Passwords and sessions
    /// Sets the console password hash of an existing account.
    /// - Throws: ``StoreError/notFound(_:)`` when there is no such account.
    func setPasswordHash(_ hash: String, for name: String, at now: Date) async throws
    /// The account and its password hash, or nil when either is missing.
    func passwordHash(for name: String) async throws -> (account: Account, hash: String)?
    func createSession(_ session: ConsoleSession) async throws
    /// The session and its officer's account, ended or not; the caller judges expiry.
    func session(tokenHash: String) async throws -> (session: ConsoleSession, account: Account)?
    func touchSession(tokenHash: String, idleUntil: Date) async throws
    func endSession(tokenHash: String, at now: Date) async throws

    // MARK: The console journal
    func journal(_ entry: ConsoleJournalEntry) async throws
    /// Entries newest first; `officer` and `action` filter when given.
    func consoleJournal(officer: String?, action: String?, since: Date?, limit: Int) async throws
        -> [ConsoleJournalEntry]

    // MARK: Help calls
    /// Stores a new ringing call, or returns the call the lane already rang
    /// with the same lane call id (`inserted` false): a resent ring is one call.
    func insertHelpCall(_ call: HelpCallRecord, step: HelpCallStep) async throws
        -> (call: HelpCallRecord, inserted: Bool)
    /// Replaces a call's state and journals the step that changed it, in
    /// one transaction, provided the stored call is still as `previous` was
    /// read (its state, officer, escalation, end and number of phrases):
    /// two officers on two nodes answering one call, or two nodes
    /// escalating it, must not both succeed.
    /// - Throws: ``HelpCallChanged`` when another step came first (nothing
    ///   is written; read the call again and judge anew), and
    ///   ``StoreError/notFound(_:)`` for an unknown call.
    func updateHelpCall(_ call: HelpCallRecord, from previous: HelpCallRecord, step: HelpCallStep)
        async throws
    func openHelpCalls() async throws -> [HelpCallRecord]
    func helpCall(id: Int64) async throws -> HelpCallRecord?
    /// Ended calls, the latest first.
    func endedHelpCalls(limit: Int) async throws -> [HelpCallRecord]
    func helpCallSteps(callID: Int64) async throws -> [HelpCallStep]

    // MARK: What officers look at
    /// The newest crossings at a lane.
    func crossings(lane: LaneID, limit: Int) async throws -> [CrossingSummary]
    /// Crossings by VRN, UBR or CCRN (the latest when `query` is `.latest`),
    /// with the CCRNs of the bundle each was decided on.
    func searchCrossings(_ query: CrossingQuery, limit: Int) async throws -> [CrossingSummary]
}

/// A help call changed between the read a step was judged on and its
/// write: another officer or node took a step first.
public struct HelpCallChanged: Error, Sendable, Hashable, CustomStringConvertible {
    public var callID: Int64

    public init(callID: Int64) {
        self.callID = callID
    }

    public var description: String {
        "help call \(callID) changed meanwhile (another officer or node acted first)"
    }
}

/// A logged-in console session. The cookie value itself is never stored.
public struct ConsoleSession: Sendable, Hashable {
    public var tokenHash: String
    public var officer: String
    /// Sent back by the page in `X-CSRF-Token` with every change.
    public var csrf: String
    public var createdAt: Date
    public var expiresAt: Date
    public var idleUntil: Date
    public var endedAt: Date?

    public init(
        tokenHash: String, officer: String, csrf: String, createdAt: Date, expiresAt: Date, idleUntil: Date,
        endedAt: Date? = nil
    ) {
        self.tokenHash = tokenHash
        self.officer = officer
        self.csrf = csrf
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.idleUntil = idleUntil
        self.endedAt = endedAt
    }

    /// Whether the session still lets its officer in at `now`.
    public func isLive(at now: Date) -> Bool {
        endedAt == nil && now < expiresAt && now < idleUntil
    }
}

/// One line of the console journal.
public struct ConsoleJournalEntry: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable { case done, refused }

    public var id: Int64
    public var officer: String
    /// `login`, `login_failed`, `logout`, `help_answer`, `override`, `watch_add`, ...
    public var action: String
    /// What it acted on: a lane, a call, a watch-list entry, a control point.
    public var target: String
    public var outcome: Outcome
    public var details: [String: String]
    public var at: Date

    public init(
        id: Int64 = 0, officer: String, action: String, target: String, outcome: Outcome,
        details: [String: String] = [:], at: Date
    ) {
        self.id = id
        self.officer = officer
        self.action = action
        self.target = target
        self.outcome = outcome
        self.details = details
        self.at = at
    }
}

/// A driver's help call as central keeps it.
public struct HelpCallRecord: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, Codable { case ringing, answered, ended }

    /// A phrase an officer sent to the lane's AIOP during the call.
    public struct Message: Sendable, Hashable, Codable {
        public var phraseID: UInt16
        public var text: String
        public var officer: String
        public var at: Date

        public init(phraseID: UInt16, text: String, officer: String, at: Date) {
            self.phraseID = phraseID
            self.text = text
            self.officer = officer
            self.at = at
        }
    }

    /// Zero until stored.
    public var id: Int64
    public var lane: LaneID
    public var controlPoint: ControlPoint
    /// The id the lane gave the call; the link's help signals carry it.
    public var laneCallID: UInt64
    /// The vehicle at the lane when the call rang, if central knew one.
    public var vrn: VRN?
    public var state: State
    /// The officer who answered and owns the call.
    public var officer: String?
    public var rangAt: Date
    public var answeredAt: Date?
    public var escalatedAt: Date?
    public var endedAt: Date?
    /// The officer who ended it, or `lane` when the lane did.
    public var endedBy: String?
    public var messages: [Message]

    public init(
        id: Int64 = 0, lane: LaneID, controlPoint: ControlPoint, laneCallID: UInt64, vrn: VRN? = nil,
        state: State = .ringing, officer: String? = nil, rangAt: Date, answeredAt: Date? = nil,
        escalatedAt: Date? = nil, endedAt: Date? = nil, endedBy: String? = nil, messages: [Message] = []
    ) {
        self.id = id
        self.lane = lane
        self.controlPoint = controlPoint
        self.laneCallID = laneCallID
        self.vrn = vrn
        self.state = state
        self.officer = officer
        self.rangAt = rangAt
        self.answeredAt = answeredAt
        self.escalatedAt = escalatedAt
        self.endedAt = endedAt
        self.endedBy = endedBy
        self.messages = messages
    }
}

/// One journaled step of a help call.
public struct HelpCallStep: Sendable, Hashable {
    /// `ring`, `ring_again`, `answer`, `message`, `escalate`, `end`.
    public var step: String
    /// The officer's name, or `lane` or `central` for what they did.
    public var actor: String
    public var details: [String: String]
    public var at: Date

    public init(step: String, actor: String, details: [String: String] = [:], at: Date) {
        self.step = step
        self.actor = actor
        self.details = details
        self.at = at
    }
}

/// What an officer searches crossings by.
public enum CrossingQuery: Sendable, Hashable {
    case latest
    case vrn(VRN)
    case ubr(UBR)
    case ccrn(CCRN)
}

/// A crossing with the CCRNs of its bundle, for the console's search.
public struct CrossingSummary: Sendable, Hashable {
    public var crossing: Crossing
    /// The request id it was recorded under (`link:LANE:N` for a lane's request N).
    public var requestID: String
    public var ccrns: [CCRN]

    public init(crossing: Crossing, requestID: String, ccrns: [CCRN]) {
        self.crossing = crossing
        self.requestID = requestID
        self.ccrns = ccrns
    }
}
