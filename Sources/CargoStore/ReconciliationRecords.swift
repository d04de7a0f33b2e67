import Foundation
import RoadCargo

/// What central did with an offline crossing.
public enum ReconciliationOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// The bundle was claimed for the passage (or already was); the lane's
    /// vehicle-left report makes it used.
    case applied
    /// The lane decided on no bundle (unladen, no bundle, paper manifest):
    /// nothing to reconcile.
    case noBundle = "no_bundle"
    /// The bundle had ended, was another passage's, is unknown, or names
    /// another vehicle or direction: raised to officers.
    case conflict
}

/// An offline crossing as central recorded it, with how it was reconciled.
public struct OfflineCrossingRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var lane: LaneID
    public var passageID: UInt64
    public var requestID: UInt64
    public var vrn: VRN
    public var arrivedAt: Date
    public var unladenPressed: Bool
    public var decidedAt: Date
    public var decision: Decision
    public var cacheVersion: CacheVersion?
    /// Central's clock when the report arrived.
    public var receivedAt: Date
    public var outcome: ReconciliationOutcome
    /// For a conflict: what exactly was wrong, in a sentence for officers.
    public var conflict: String?
    /// The officer who acknowledged the conflict, and when, and what they noted.
    public var acknowledgedBy: String?
    public var acknowledgedAt: Date?
    public var acknowledgedNote: String?

    /// A conflict no officer has acknowledged yet.
    public var isOpenConflict: Bool { outcome == .conflict && acknowledgedAt == nil }

    public init(
        id: Int64, lane: LaneID, passageID: UInt64, requestID: UInt64, vrn: VRN, arrivedAt: Date,
        unladenPressed: Bool, decidedAt: Date, decision: Decision, cacheVersion: CacheVersion?,
        receivedAt: Date, outcome: ReconciliationOutcome, conflict: String?, acknowledgedBy: String? = nil,
        acknowledgedAt: Date? = nil, acknowledgedNote: String? = nil
    ) {
        self.id = id
        self.lane = lane
        self.passageID = passageID
        self.requestID = requestID
        self.vrn = vrn
        self.arrivedAt = arrivedAt
        self.unladenPressed = unladenPressed
        self.decidedAt = decidedAt
        self.decision = decision
        self.cacheVersion = cacheVersion
        self.receivedAt = receivedAt
        self.outcome = outcome
        self.conflict = conflict
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
        self.acknowledgedNote = acknowledgedNote
    }
}

/// Which offline crossings to list.
public struct OfflineCrossingFilter: Sendable, Hashable {
    /// One lane's, or every lane's when nil.
    public var lane: LaneID?
    /// Only conflicts no officer has acknowledged (the default), or every record.
    public var openConflictsOnly: Bool

    public init(lane: LaneID? = nil, openConflictsOnly: Bool = true) {
        self.lane = lane
        self.openConflictsOnly = openConflictsOnly
    }
}

/// How many offline crossings a lane has sent, and how they were reconciled.
public struct OfflineCrossingCounts: Sendable, Hashable, Codable {
    public var received: Int
    public var applied: Int
    public var noBundle: Int
    public var conflicts: Int
    /// Conflicts no officer has acknowledged yet.
    public var openConflicts: Int

    public init(
        received: Int = 0, applied: Int = 0, noBundle: Int = 0, conflicts: Int = 0, openConflicts: Int = 0
    ) {
        self.received = received
        self.applied = applied
        self.noBundle = noBundle
        self.conflicts = conflicts
        self.openConflicts = openConflicts
    }
}
