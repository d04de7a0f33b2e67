import Foundation

/// What the displays tell the driver (briefing, "Customs Instructions on
/// Visual Display Unit").
public enum Instruction: String, Sendable, Hashable, Codable, CaseIterable {
    case welcome = "WELCOME"
    case stop = "STOP"
    case dropManifest = "DROP_MANIFEST"
    case cleared = "CLEARED"
    case inspect = "INSPECT"
    case closed = "CLOSED"
}

/// Why, for officers and the journal; never hidden from them.
public enum Reason: String, Sendable, Hashable, Codable, CaseIterable {
    case bundleOK = "BUNDLE_OK"
    case unladen = "UNLADEN"
    case paperManifest = "PAPER_MANIFEST"
    case unladenConflict = "UNLADEN_CONFLICT"
    case earlyCrossing = "EARLY_CROSSING"
    case ccrnExpired = "CCRN_EXPIRED"
    case targeted = "TARGETED"
    case random = "RANDOM"
    case noBundle = "NO_BUNDLE"
    case systemUnavailable = "SYSTEM_UNAVAILABLE"
    case officerRelease = "OFFICER_RELEASE"
    case officerDivert = "OFFICER_DIVERT"
}

/// Notes that travel with a decision to the journal without changing it.
public enum DecisionNote: String, Sendable, Hashable, Codable, CaseIterable {
    /// The bundle named another control point; it clears all the same.
    case controlPointChanged = "CONTROL_POINT_CHANGED"
    /// Decided by a lane from its cached bundle data while offline.
    case offline = "OFFLINE"
}

/// What a lane asks the decision core about one vehicle.
public struct DecisionRequest: Sendable, Hashable, Codable {
    public var lane: Lane
    public var vrn: VRN
    public var arrivedAt: Date
    public var unladenPressed: Bool

    public init(lane: Lane, vrn: VRN, arrivedAt: Date, unladenPressed: Bool) {
        self.lane = lane
        self.vrn = vrn
        self.arrivedAt = arrivedAt
        self.unladenPressed = unladenPressed
    }
}

/// The answer: one instruction and one reason, with what the display needs.
public struct Decision: Sendable, Hashable, Codable {
    public var instruction: Instruction
    public var reason: Reason
    public var notes: [DecisionNote]
    /// The bundle the decision was made on, if any: it becomes used when the
    /// vehicle leaves the lane.
    public var ubr: UBR?
    /// For EARLY_CROSSING: the time the display shows.
    public var earliestCrossing: Date?
    /// For CCRN_EXPIRED and TARGETED: which CCRNs caused it, for officers.
    public var ccrns: [CCRN]

    public init(
        instruction: Instruction, reason: Reason, notes: [DecisionNote] = [], ubr: UBR? = nil,
        earliestCrossing: Date? = nil, ccrns: [CCRN] = []
    ) {
        self.instruction = instruction
        self.reason = reason
        self.notes = notes
        self.ubr = ubr
        self.earliestCrossing = earliestCrossing
        self.ccrns = ccrns
    }
}

/// An entry on the officers' watch list.
public enum WatchTarget: Sendable, Hashable, Codable {
    case vrn(VRN)
    case ccrn(CCRN)
    /// Matched against consignee names case-insensitively, spaces folded.
    case consignee(String)

    public var kind: String {
        switch self {
        case .vrn: "vrn"
        case .ccrn: "ccrn"
        case .consignee: "consignee"
        }
    }

    public var value: String {
        switch self {
        case .vrn(let v): v.value
        case .ccrn(let c): c.value
        case .consignee(let n): WatchTarget.normaliseName(n)
        }
    }

    /// Folds case and runs of white space so that "Wilson  development ltd"
    /// and "WILSON DEVELOPMENT LTD" are the same watch-list entry.
    public static func normaliseName(_ name: String) -> String {
        name.uppercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    public init(kind: String, value: String) throws(ValidationFailure) {
        switch kind {
        case "vrn": self = .vrn(try VRN(value))
        case "ccrn": self = .ccrn(try CCRN(value))
        case "consignee":
            let n = WatchTarget.normaliseName(value)
            guard !n.isEmpty else {
                throw ValidationFailure(
                    field: "value", rule: "watch.empty", detail: "a consignee name is needed")
            }
            self = .consignee(n)
        default:
            throw ValidationFailure(
                field: "kind", rule: "watch.kind", detail: "kind is vrn, ccrn or consignee, not \"\(kind)\"")
        }
    }
}

/// Which bundle cache a lane decided with offline: the generation of
/// central's last full push and the number of the last delta applied on top
/// of it (0: none yet). Journaled with every offline decision and sent with
/// it to central.
public struct CacheVersion: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var generation: UInt64
    public var sequence: UInt64

    public init(generation: UInt64, sequence: UInt64) {
        self.generation = generation
        self.sequence = sequence
    }

    public static func < (a: CacheVersion, b: CacheVersion) -> Bool {
        (a.generation, a.sequence) < (b.generation, b.sequence)
    }

    /// `generation.sequence`, as journals and logs print it.
    public var description: String { "\(generation).\(sequence)" }
}

/// A decision a lane made from its bundle cache in offline mode (clearance
/// rule 4) and took for the vehicle at the lane (held or shown). The lane
/// queues it in its outbox in the transaction that journals it; it travels
/// as link message 0x14; central applies it once to reconcile (the bundle
/// claimed for the passage, or a conflict raised to officers).
public struct OfflineCrossing: Sendable, Hashable {
    /// The vehicle's stay at the lane.
    public var passageID: UInt64
    /// The lane's request id: unique per lane, the key a resend is known by.
    public var requestID: UInt64
    public var vrn: VRN
    public var arrivedAt: Date
    public var unladenPressed: Bool
    /// The lane's clock when it decided.
    public var decidedAt: Date
    /// As the lane decided it (tagged OFFLINE), with the UBR it decided on.
    public var decision: Decision
    /// The bundle cache the lane decided with; nil when it held none.
    public var cacheVersion: CacheVersion?

    public init(
        passageID: UInt64, requestID: UInt64, vrn: VRN, arrivedAt: Date, unladenPressed: Bool,
        decidedAt: Date, decision: Decision, cacheVersion: CacheVersion?
    ) {
        self.passageID = passageID
        self.requestID = requestID
        self.vrn = vrn
        self.arrivedAt = arrivedAt
        self.unladenPressed = unladenPressed
        self.decidedAt = decidedAt
        self.decision = decision
        self.cacheVersion = cacheVersion
    }
}
