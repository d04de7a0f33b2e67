import ClearanceCore
import Foundation
import LaneCore
import RoadCargo

/// Decides in offline mode (rule 4): the lane applies rules 1 to 3 to the
/// bundle data central pushed ahead of time, and tags the decision OFFLINE.
public struct OfflineDecider: Sendable {
    /// What the lane's cache knows about one VRN in the lane's direction.
    public struct CacheView: Sendable {
        public var bundle: CargoBundle?
        public var facts: [CCRN: ConsignmentFacts]
        public var watchList: WatchList

        public init(bundle: CargoBundle?, facts: [CCRN: ConsignmentFacts], watchList: WatchList) {
            self.bundle = bundle
            self.facts = facts
            self.watchList = watchList
        }
    }

    public var lane: Lane
    public var policy: DecisionPolicy
    /// Reads the cache; throws when it cannot be read (the lane then
    /// treats the request as unanswered, rule 4).
    public var lookup: @Sendable (VRN, Direction) throws -> CacheView

    public init(
        lane: Lane, policy: DecisionPolicy, lookup: @escaping @Sendable (VRN, Direction) throws -> CacheView
    ) {
        self.lane = lane
        self.policy = policy
        self.lookup = lookup
    }

    public func decide(_ request: LaneDecisionRequest) throws -> Decision {
        let view = try lookup(request.vrn, lane.direction)
        let decisionCase = DecisionCase(
            request: DecisionRequest(
                lane: lane, vrn: request.vrn, arrivedAt: request.arrivedAt,
                unladenPressed: request.unladenPressed),
            bundle: view.bundle, facts: view.facts, watchList: view.watchList)
        var decision = DecisionCore.decide(decisionCase, policy: policy)
        if !decision.notes.contains(.offline) { decision.notes.append(.offline) }
        return decision
    }
}
