import CargoStore
import Foundation
import RoadCargo

/// POST /v1/lanes/{laneId}/arrivals: the vehicle immigration has cleared
/// into the lane.
public struct ArrivalRequestBody: Codable, Sendable, Hashable {
    public var vrn: String
}

/// An arrival queued for the lane.
public struct ArrivalAcceptedBody: Codable, Sendable, Hashable {
    /// The link message id (unique per lane for all time).
    public var messageId: UInt64
    public var lane: String
    /// Normalised: upper case, no spaces.
    public var vrn: String
    /// Central's clock when it accepted the arrival.
    public var arrivedAt: String
    /// False: the lane is not linked now and gets the arrival when it reconnects.
    public var laneConnected: Bool
}

/// POST /v1/lanes/{laneId}/commands: one of `open`, `close`, `offline`
/// (with `on`) and `override` (with `requestId`, `instruction`, `reason`,
/// optional `text`). Members another command takes are refused.
public struct CommandRequestBody: Codable, Sendable, Hashable {
    public var command: String
    public var on: Bool?
    public var requestId: String?
    public var instruction: String?
    public var reason: String?
    public var text: String?
}

/// A command recorded and queued for the lane.
public struct CommandAcceptedBody: Codable, Sendable, Hashable {
    /// The officer-action record's id.
    public var actionId: Int64
    public var messageId: UInt64
    public var lane: String
    public var command: String
    public var officer: String
    public var requestedAt: String
    public var laneConnected: Bool
    /// The cache generation pushed ahead of `offline` with `on: true`.
    public var cacheGeneration: UInt64?
    /// `sent` (into the lane's outbox on this node) or `queued` (in a
    /// cluster's command table, for the node that holds the lane; then
    /// `messageId` is 0).
    public var delivery: String?
    /// In a cluster: the node that sent it, or the node it is queued for
    /// (absent: whichever node links the lane next).
    public var node: String?
    /// In a cluster: the command-table row of a queued command.
    public var clusterCommandId: Int64?
}

extension CommandAcceptedBody {
    mutating func describe(_ delivery: LaneDispatcher.Delivery) {
        switch delivery {
        case .sent(let node):
            self.delivery = "sent"
            self.node = node
        case .queued(let command, let holder):
            self.delivery = "queued"
            self.node = holder
            clusterCommandId = command
            // Linked, to another node: it gets the command within moments.
            if holder != nil { laneConnected = true }
        }
    }
}

/// A bundle cache queued for the lane.
public struct CachePushBody: Codable, Sendable, Hashable {
    public var lane: String
    public var generation: UInt64
    public var pushedAt: String
    public var bundles: Int
    public var watchTargets: Int
    /// UBRs of active bundles too large for a frame; offline, their vehicles go to inspection.
    public var omitted: [String]
    public var messageIds: [UInt64]
    public var laneConnected: Bool
}

/// Something a lane reported over the link.
public struct LaneEventBody: Codable, Sendable, Hashable {
    public var id: Int64
    public var lane: String
    public var occurredAt: String
    public var receivedAt: String
    public var kind: String
    public var fields: [String: String]

    init(_ e: LaneEventRecord) {
        id = e.id
        lane = e.lane.value
        occurredAt = HongKongTime.iso8601(e.occurredAt)
        receivedAt = HongKongTime.iso8601(e.receivedAt)
        kind = e.kind
        fields = e.fields
    }
}
