import Foundation
import RoadCargo

/// Everything the decision core needs about one vehicle, loaded beforehand
/// (by central from its store, or by a lane from its offline cache), so that
/// deciding is a pure function.
public struct DecisionCase: Sendable, Hashable {
    public var request: DecisionRequest
    /// The VRN's active bundle for the lane's direction, if any.
    public var bundle: CargoBundle?
    /// What the rules need of the consignments of `bundle`, by CCRN. A CCRN
    /// missing here is treated as no longer valid: the lane must never clear
    /// on data it cannot see.
    public var consignments: [CCRN: ConsignmentFacts]
    /// The watch-list entries that could match this case (all of them is fine).
    public var watchList: WatchList

    /// A case from central's store, with whole consignments.
    public init(
        request: DecisionRequest, bundle: CargoBundle?, consignments: [CCRN: Consignment] = [:],
        watchList: WatchList = .empty
    ) {
        self.init(
            request: request, bundle: bundle,
            facts: consignments.mapValues {
                ConsignmentFacts(validUntil: $0.validUntil, consignee: $0.submission.consignee.name)
            }, watchList: watchList)
    }

    /// A case from what a lane's offline cache holds: validity days and,
    /// where central sent them, consignee names.
    public init(
        request: DecisionRequest, bundle: CargoBundle?, facts: [CCRN: ConsignmentFacts],
        watchList: WatchList = .empty
    ) {
        self.request = request
        self.bundle = bundle
        self.consignments = facts
        self.watchList = watchList
    }
}

/// The two things about a consignment that a lane decision looks at.
public struct ConsignmentFacts: Sendable, Hashable {
    /// The last Hong Kong day on which its CCRN may cross.
    public var validUntil: CalendarDay
    /// Its consignee's name, for the watch list; nil when the holder of the
    /// case does not know it (a lane's cache), so only CCRN and VRN targets match.
    public var consignee: String?

    public init(validUntil: CalendarDay, consignee: String?) {
        self.validUntil = validUntil
        self.consignee = consignee
    }

    /// Valid at every instant before the end of `validUntil`, Hong Kong time.
    public func isValid(at t: Date) -> Bool { t < validUntil.end }
}

/// The lane decision of `CLEARANCE-RULES.md`, rules 1 to 3, in their order.
/// Rule 4 (no answer in time) and rule 5 (officer override) belong to the
/// lane and central; they never reach this function.
public enum DecisionCore {
    public static func decide(_ c: DecisionCase, policy: DecisionPolicy) -> Decision {
        let selector = Selector(policy.selection)
        let request = c.request
        let vrnWatched = c.watchList.vrns.contains(request.vrn)

        // Rule 1: an active bundle in the lane's direction.
        if let bundle = c.bundle, bundle.status == .active, bundle.direction == request.lane.direction,
            bundle.vrn == request.vrn
        {
            var notes: [DecisionNote] = []
            if let cp = bundle.expectedControlPoint, cp != request.lane.controlPoint {
                notes.append(.controlPointChanged)
            }
            func inspect(_ reason: Reason, ccrns: [CCRN] = [], earliest: Date? = nil) -> Decision {
                Decision(
                    instruction: .inspect, reason: reason, notes: notes, ubr: bundle.ubr,
                    earliestCrossing: earliest, ccrns: ccrns)
            }
            if request.unladenPressed { return inspect(.unladenConflict) }
            // Whole seconds, as printed: an arrival at the time a board or
            // the API showed clears (BundlingRules.wholeSecondUp).
            let earliest = BundlingRules.wholeSecondUp(bundle.earliestCrossing)
            if request.arrivedAt < earliest {
                return inspect(.earlyCrossing, earliest: earliest)
            }
            let expired = bundle.ccrns.filter { ccrn in
                guard let consignment = c.consignments[ccrn] else { return true }
                return !consignment.isValid(at: request.arrivedAt)
            }
            if !expired.isEmpty { return inspect(.ccrnExpired, ccrns: expired) }
            let targeted = bundle.ccrns.filter { ccrn in
                if c.watchList.ccrns.contains(ccrn) { return true }
                guard let consignee = c.consignments[ccrn]?.consignee else { return false }
                return c.watchList.consignees.contains(WatchTarget.normaliseName(consignee))
            }
            if vrnWatched || !targeted.isEmpty { return inspect(.targeted, ccrns: targeted) }
            if selector.selects(Selector.subject(ubr: bundle.ubr), rate: policy.selection.ladenRate) {
                return inspect(.random)
            }
            return Decision(instruction: .cleared, reason: .bundleOK, notes: notes, ubr: bundle.ubr)
        }

        // Rules 2 and 3 share the selection; only the outcome when not picked differs.
        let subject = Selector.subject(vrn: request.vrn, arrivedAt: request.arrivedAt)
        let picked: Reason? =
            vrnWatched
            ? .targeted
            : selector.selects(subject, rate: policy.selection.unladenRate) ? .random : nil

        if request.unladenPressed {
            if let reason = picked { return Decision(instruction: .inspect, reason: reason) }
            return Decision(instruction: .cleared, reason: .unladen)
        }
        switch policy.phase {
        case .transitional:
            if let reason = picked { return Decision(instruction: .inspect, reason: reason) }
            return Decision(instruction: .dropManifest, reason: .paperManifest)
        case .full:
            return Decision(instruction: .inspect, reason: .noBundle)
        }
    }
}
