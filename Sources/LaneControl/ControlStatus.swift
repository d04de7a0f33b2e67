import Foundation

/// The result of `status`: the lane now (docs/control-socket.md, "status
/// result"). Times are Hong Kong time, ISO 8601 with `+08:00`.
///
/// `reason` is always sent (`null` when none); the other optional members
/// are left out when absent.
public struct ControlStatus: Codable, Sendable, Hashable {
    public var lane: String
    /// `import` or `export`.
    public var direction: String
    public var controlPoint: String
    public var open: Bool
    public var offline: Bool
    /// `up`, `down`, or `none` for a lane run without central.
    public var link: String
    /// The central endpoint the link is up to, as `host:port` (the device
    /// of a serial link); absent while it is down and from laned before issue 16.
    public var central: String?
    public var xdb: String
    public var aiop: String
    /// `closed`, `welcome`, `stop`, `system_unavailable` or `decided`.
    public var phase: String
    /// The shown decision's reason, or `SYSTEM_UNAVAILABLE`.
    public var reason: String?
    /// For EARLY_CROSSING only.
    public var earliestCrossing: String?
    public var vrn: String?
    /// The request the lane is waiting on.
    public var pendingRequestID: UInt64?
    /// The request of the vehicle in the lane, answered or not.
    public var requestID: UInt64?
    public var lastDecision: LastDecision?
    /// `idle`, `ringing` or `connected`.
    public var help: String
    public var unladenAcknowledged: Bool
    /// A phrase an officer put on the AIOP.
    public var officerMessage: OfficerMessage?
    public var language: String
    /// Whether the boards already show this state.
    public var drawn: Bool
    /// The codes of the faults now active.
    public var faults: [String]
    /// Link messages central has not acknowledged yet.
    public var outboxPending: Int
    /// Of them, the offline crossings; absent from laned before issue 14.
    public var offlineUnreconciled: Int?
    /// Vehicles that left since laned started.
    public var passages: Int
    public var latency: Latency
    public var now: String
    /// `ok`, `full` (the journal's disk has no room) or `failed` (it cannot
    /// be written for another reason); while not `ok` the lane is closed and
    /// tries again every 2 s. Absent from laned before issue 17.
    public var journal: String?

    public struct LastDecision: Codable, Sendable, Hashable {
        public var instruction: String
        public var reason: String
        /// Digits, or empty for a decision without one (offline, rule 4).
        public var decisionID: String
        public var at: String

        public init(instruction: String, reason: String, decisionID: String, at: String) {
            self.instruction = instruction
            self.reason = reason
            self.decisionID = decisionID
            self.at = at
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case instruction, reason, decisionID = "decision_id", at
        }
    }

    public struct OfficerMessage: Codable, Sendable, Hashable {
        public var phraseID: String
        public var text: String

        public init(phraseID: String, text: String) {
            self.phraseID = phraseID
            self.text = text
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case phraseID = "phrase_id", text
        }
    }

    /// From an input entering laned to SDL presenting the frame it caused; a
    /// kind with no sample yet is left out.
    public struct Latency: Codable, Sendable, Hashable {
        public var arrivalToStop: Figures?
        public var arrivalToDecision: Figures?
        public var pressToDisplay: Figures?

        public init(arrivalToStop: Figures?, arrivalToDecision: Figures?, pressToDisplay: Figures?) {
            self.arrivalToStop = arrivalToStop
            self.arrivalToDecision = arrivalToDecision
            self.pressToDisplay = pressToDisplay
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case arrivalToStop = "arrival_to_stop"
            case arrivalToDecision = "arrival_to_decision"
            case pressToDisplay = "press_to_display"
        }
    }

    public struct Figures: Codable, Sendable, Hashable {
        public var samples: Int
        public var medianMicroseconds: Double
        public var p99Microseconds: Double

        public init(samples: Int, medianMicroseconds: Double, p99Microseconds: Double) {
            self.samples = samples
            self.medianMicroseconds = medianMicroseconds
            self.p99Microseconds = p99Microseconds
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case samples, medianMicroseconds = "median_us", p99Microseconds = "p99_us"
        }
    }

    public init(
        lane: String, direction: String, controlPoint: String, open: Bool, offline: Bool, link: String,
        xdb: String, aiop: String, phase: String, reason: String? = nil, earliestCrossing: String? = nil,
        vrn: String? = nil, pendingRequestID: UInt64? = nil, requestID: UInt64? = nil,
        lastDecision: LastDecision? = nil, help: String, unladenAcknowledged: Bool,
        officerMessage: OfficerMessage? = nil, language: String, drawn: Bool, faults: [String],
        outboxPending: Int, offlineUnreconciled: Int?, passages: Int, latency: Latency, now: String,
        central: String? = nil, journal: String? = nil
    ) {
        self.lane = lane
        self.direction = direction
        self.controlPoint = controlPoint
        self.open = open
        self.offline = offline
        self.link = link
        self.central = central
        self.xdb = xdb
        self.aiop = aiop
        self.phase = phase
        self.reason = reason
        self.earliestCrossing = earliestCrossing
        self.vrn = vrn
        self.pendingRequestID = pendingRequestID
        self.requestID = requestID
        self.lastDecision = lastDecision
        self.help = help
        self.unladenAcknowledged = unladenAcknowledged
        self.officerMessage = officerMessage
        self.language = language
        self.drawn = drawn
        self.faults = faults
        self.outboxPending = outboxPending
        self.offlineUnreconciled = offlineUnreconciled
        self.passages = passages
        self.latency = latency
        self.now = now
        self.journal = journal
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case lane, direction, controlPoint = "control_point", open, offline, link, central, xdb, aiop, phase
        case reason
        case earliestCrossing = "earliest_crossing", vrn, pendingRequestID = "pending_request_id"
        case requestID = "request_id"
        case lastDecision = "last_decision", help, unladenAcknowledged = "unladen_acknowledged"
        case officerMessage = "officer_message", language, drawn, faults, outboxPending = "outbox_pending"
        case offlineUnreconciled = "offline_unreconciled"
        case passages, latency, now, journal
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lane, forKey: .lane)
        try c.encode(direction, forKey: .direction)
        try c.encode(controlPoint, forKey: .controlPoint)
        try c.encode(open, forKey: .open)
        try c.encode(offline, forKey: .offline)
        try c.encode(link, forKey: .link)
        try c.encodeIfPresent(central, forKey: .central)
        try c.encode(xdb, forKey: .xdb)
        try c.encode(aiop, forKey: .aiop)
        try c.encode(phase, forKey: .phase)
        // Always present: a client tells "no reason" from an older laned.
        try c.encode(reason, forKey: .reason)
        try c.encodeIfPresent(earliestCrossing, forKey: .earliestCrossing)
        try c.encodeIfPresent(vrn, forKey: .vrn)
        try c.encodeIfPresent(pendingRequestID, forKey: .pendingRequestID)
        try c.encodeIfPresent(requestID, forKey: .requestID)
        try c.encodeIfPresent(lastDecision, forKey: .lastDecision)
        try c.encode(help, forKey: .help)
        try c.encode(unladenAcknowledged, forKey: .unladenAcknowledged)
        try c.encodeIfPresent(officerMessage, forKey: .officerMessage)
        try c.encode(language, forKey: .language)
        try c.encode(drawn, forKey: .drawn)
        try c.encode(faults, forKey: .faults)
        try c.encode(outboxPending, forKey: .outboxPending)
        try c.encodeIfPresent(offlineUnreconciled, forKey: .offlineUnreconciled)
        try c.encode(passages, forKey: .passages)
        try c.encode(latency, forKey: .latency)
        try c.encode(now, forKey: .now)
        try c.encodeIfPresent(journal, forKey: .journal)
    }
}

/// One journal entry as `journal` gives it: every member present, absent
/// values as `null`.
public struct ControlJournalEntry: Codable, Sendable, Hashable {
    /// Increases with every entry, never reused.
    public var seq: Int64
    /// To the millisecond, Hong Kong time.
    public var at: String
    public var kind: String
    public var vrn: String?
    public var requestID: UInt64?
    public var decisionID: UInt64?
    public var instruction: String?
    public var reason: String?
    public var officer: String?
    /// The help call the entry belongs to.
    public var callID: UInt64?
    public var detail: String

    public init(
        seq: Int64, at: String, kind: String, vrn: String? = nil, requestID: UInt64? = nil,
        decisionID: UInt64? = nil, instruction: String? = nil, reason: String? = nil, officer: String? = nil,
        callID: UInt64? = nil, detail: String = ""
    ) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.vrn = vrn
        self.requestID = requestID
        self.decisionID = decisionID
        self.instruction = instruction
        self.reason = reason
        self.officer = officer
        self.callID = callID
        self.detail = detail
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case seq, at, kind, vrn, requestID = "request_id", decisionID = "decision_id", instruction, reason
        case officer, callID = "call_id", detail
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seq, forKey: .seq)
        try c.encode(at, forKey: .at)
        try c.encode(kind, forKey: .kind)
        try c.encode(vrn, forKey: .vrn)
        try c.encode(requestID, forKey: .requestID)
        try c.encode(decisionID, forKey: .decisionID)
        try c.encode(instruction, forKey: .instruction)
        try c.encode(reason, forKey: .reason)
        try c.encode(officer, forKey: .officer)
        try c.encode(callID, forKey: .callID)
        try c.encode(detail, forKey: .detail)
    }
}
