import Foundation
import RoadCargo

/// Something a lane reported over the link, as central stored it.
///
/// The store knows no link types: `kind` is the event's name (`lane_opened`,
/// `button_pressed`, ...) and `fields` its details as text, so that kinds a
/// newer lane reports are kept as they come.
public struct LaneEventRecord: Sendable, Hashable, Codable {
    /// Zero until stored.
    public var id: Int64
    public var lane: LaneID
    /// The lane's clock when it happened.
    public var occurredAt: Date
    public var kind: String
    public var fields: [String: String]
    /// Central's clock when the report arrived.
    public var receivedAt: Date

    public init(
        id: Int64 = 0, lane: LaneID, occurredAt: Date, kind: String, fields: [String: String],
        receivedAt: Date
    ) {
        self.id = id
        self.lane = lane
        self.occurredAt = occurredAt
        self.kind = kind
        self.fields = fields
        self.receivedAt = receivedAt
    }
}

/// The commands an officer gives a lane.
public enum OfficerActionKind: String, Sendable, Hashable, Codable, CaseIterable {
    case open
    case close
    case offline
    case override
}

/// An officer's command to a lane, as recorded before it was sent.
public struct OfficerActionRecord: Sendable, Hashable, Codable {
    /// Zero until stored.
    public var id: Int64
    public var lane: LaneID
    /// The officer's account name.
    public var officer: String
    public var command: OfficerActionKind
    /// The command's arguments as text (`on`, `requestId`, `instruction`, ...).
    public var details: [String: String]
    public var requestedAt: Date
    /// The link message that carries the command, once queued; nil if
    /// queuing failed after the record was made.
    public var messageID: UInt64?

    public init(
        id: Int64 = 0, lane: LaneID, officer: String, command: OfficerActionKind, details: [String: String],
        requestedAt: Date, messageID: UInt64? = nil
    ) {
        self.id = id
        self.lane = lane
        self.officer = officer
        self.command = command
        self.details = details
        self.requestedAt = requestedAt
        self.messageID = messageID
    }
}

/// Why a lane's offline bundle cache was built.
public enum CachePushCause: String, Sendable, Hashable, Codable, CaseIterable {
    /// The lane's link session was established.
    case session
    /// An officer asked for it.
    case officer
    /// An officer switched the lane to offline mode.
    case offline
}

/// One offline bundle cache built for a lane.
public struct CachePushRecord: Sendable, Hashable, Codable {
    /// Unique and increasing over the store's whole life.
    public var generation: UInt64
    public var lane: LaneID
    public var pushedAt: Date
    public var cause: CachePushCause
    /// The officer, for pushes an officer caused.
    public var requestedBy: String?
    public var bundles: Int
    public var watchTargets: Int
    /// Active bundles left out because one alone exceeds a link frame.
    public var omitted: Int
    public var chunks: Int

    public init(
        generation: UInt64, lane: LaneID, pushedAt: Date, cause: CachePushCause, requestedBy: String?,
        bundles: Int, watchTargets: Int, omitted: Int, chunks: Int
    ) {
        self.generation = generation
        self.lane = lane
        self.pushedAt = pushedAt
        self.cause = cause
        self.requestedBy = requestedBy
        self.bundles = bundles
        self.watchTargets = watchTargets
        self.omitted = omitted
        self.chunks = chunks
    }
}

/// What a lane's offline bundle cache is built from, read in one snapshot.
public struct OfflineCacheSource: Sendable, Hashable {
    /// What a lane needs to know of one CCRN of a cached bundle.
    public struct CCRNFacts: Sendable, Hashable {
        public var validUntil: CalendarDay
        /// Normalised as the watch list matches consignees.
        public var consignee: String

        public init(validUntil: CalendarDay, consignee: String) {
            self.validUntil = validUntil
            self.consignee = consignee
        }
    }

    /// Every active bundle of the direction, by UBR.
    public var bundles: [CargoBundle]
    /// The facts of every CCRN in ``bundles``.
    public var ccrns: [CCRN: CCRNFacts]
    /// Every watch-list target.
    public var watchList: [WatchTarget]
    /// The cache feed's position the snapshot is current through: changes
    /// after it reach a lane holding this snapshot as deltas.
    public var feedPosition: Int64

    public init(
        bundles: [CargoBundle], ccrns: [CCRN: CCRNFacts], watchList: [WatchTarget], feedPosition: Int64 = 0
    ) {
        self.bundles = bundles
        self.ccrns = ccrns
        self.watchList = watchList
        self.feedPosition = feedPosition
    }
}
