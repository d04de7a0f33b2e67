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

        public init(vrn: VRN, arrivedAt: Date, unladenPressed: Bool, shown: ShownDecision?) {
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
