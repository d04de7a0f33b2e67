import ClearanceCore
import Foundation
import LaneCore
import LaneJournal
import LinkCore
import RoadCargo

/// Decides in offline mode (rule 4): the lane applies rules 1 to 3 to the
/// bundle data central pushed ahead of time, and tags the decision OFFLINE.
public struct OfflineDecider: Sendable {
    /// What the lane's cache knows about one VRN in the lane's direction.
    public struct CacheView: Sendable {
        public var bundle: CargoBundle?
        public var facts: [CCRN: ConsignmentFacts]
        public var watchList: WatchList
        /// The cache these came from; nil when the lane holds none.
        public var version: CacheVersion?

        public init(
            bundle: CargoBundle?, facts: [CCRN: ConsignmentFacts], watchList: WatchList,
            version: CacheVersion? = nil
        ) {
            self.bundle = bundle
            self.facts = facts
            self.watchList = watchList
            self.version = version
        }
    }

    public var lane: Lane
    public var policy: DecisionPolicy
    /// Reads the cache; throws when it cannot be read (the lane then
    /// treats the request as unanswered, rule 4).
    /// Async: the journal reads the cache through GRDB's async API.
    public var lookup: @Sendable (VRN, Direction) async throws -> CacheView

    public init(
        lane: Lane, policy: DecisionPolicy,
        lookup: @escaping @Sendable (VRN, Direction) async throws -> CacheView
    ) {
        self.lane = lane
        self.policy = policy
        self.lookup = lookup
    }

    /// The decision, tagged OFFLINE, and the cache version it was made with.
    public func decide(_ request: LaneDecisionRequest) async throws -> (
        decision: Decision, cacheVersion: CacheVersion?
    ) {
        let view = try await lookup(request.vrn, lane.direction)
        let decisionCase = DecisionCase(
            request: request.request.decision(at: lane),
            bundle: view.bundle, facts: view.facts, watchList: view.watchList)
        var decision = DecisionCore.decide(decisionCase, policy: policy)
        if !decision.notes.contains(.offline) { decision.notes.append(.offline) }
        return (decision, view.version)
    }
}

extension OfflineDecider {
    /// Reads the cache in the lane's journal: the VRN's bundle with its
    /// CCRNs' validity, and the watch list (consignee names are not in the
    /// cache, so only VRN and CCRN targets match offline).
    public static func journalLookup(_ journal: LaneJournal)
        -> @Sendable (VRN, Direction) async throws -> CacheView
    {
        { vrn, direction in
            let version = try await journal.cacheVersion()
            let watchList = WatchList(try await journal.cachedWatchList())
            guard let cached = try await journal.cachedBundle(vrn: vrn, direction: direction) else {
                return CacheView(bundle: nil, facts: [:], watchList: watchList, version: version)
            }
            // Only what the rules read is cached; the driver's details stay with central.
            let bundle = CargoBundle(
                ubr: cached.ubr, driverName: "", driverAccount: "", vrn: cached.vrn,
                direction: cached.direction,
                expectedControlPoint: nil, ccrns: cached.ccrns.map(\.ccrn),
                completedAt: cached.earliestCrossing, earliestCrossing: cached.earliestCrossing,
                status: cached.status)
            let facts = Dictionary(
                cached.ccrns.map { ($0.ccrn, ConsignmentFacts(validUntil: $0.validUntil, consignee: nil)) },
                uniquingKeysWith: { first, _ in first })
            return CacheView(bundle: bundle, facts: facts, watchList: watchList, version: version)
        }
    }
}

extension OfflineBundle {
    /// A bundle of central's cache push as the journal keeps it.
    init(_ cached: CachedBundle) {
        self.init(
            ubr: cached.ubr, vrn: cached.vrn, direction: cached.direction,
            earliestCrossing: cached.earliestCrossing,
            status: cached.status, ccrns: cached.ccrns.map { Item(ccrn: $0.ccrn, validUntil: $0.validUntil) })
    }
}
