import Foundation
import RoadCargo

/// A bundle's life at central, as a value: active until a lane decides about
/// its vehicle, then claimed by that passage until the vehicle leaves, then
/// used (lane decisions, rule 1: "in every case the bundle becomes used once
/// the vehicle leaves the lane"). Debundling ends only an active bundle.
///
/// The store runs ``apply(_:to:)`` inside the transaction that changes the
/// row, and makes the change itself a conditional update on the state read,
/// so that two claimants can never both succeed (`docs/store.md`).
///
/// A claimant is a string the store keeps in `bundles.claimed_by`: today a
/// lane's decision request (`link:<lane>:<request id>`); once lanes send
/// passage ids, a passage (`passage:<lane>:<passage id>`), so that every
/// re-request of one passage finds the bundle it already claimed.
public enum BundleLife {
    /// How long a claim waits for its vehicle to leave before it lapses into
    /// used: a lane that never reports the leaving (lost, replaced) must not
    /// hold a bundle, its CCRNs and its VRN's next bundle for ever; and a
    /// vehicle that was decided about has left by then, so used is the
    /// rule's answer, never active again.
    public static let claimLifetime: TimeInterval = 6 * 3600

    public enum State: Sendable, Hashable {
        case active
        case claimed(Claim)
        case debundled
        case used
    }

    /// Who claimed a bundle, and when.
    public struct Claim: Sendable, Hashable {
        public var claimant: String
        /// The lane the claimant stands in: only its vehicle's leaving uses the bundle.
        public var lane: LaneID
        public var at: Date

        public init(claimant: String, lane: LaneID, at: Date) {
            self.claimant = claimant
            self.lane = lane
            self.at = at
        }
    }

    public enum Event: Sendable, Hashable {
        /// A lane decided about the bundle's vehicle (any laden decision:
        /// CLEARED or INSPECT, the vehicle leaves either way).
        case claim(Claim)
        /// The vehicle decided about at `lane` left it.
        case vehicleLeft(lane: LaneID)
        /// The driver (or an officer) debundles.
        case debundle
        /// Time passed: a claim older than ``claimLifetime`` lapses.
        case tick(now: Date)
    }

    /// What the store must do.
    public enum Outcome: Sendable, Hashable {
        /// Write the new state (and, for used, spend the CCRNs; for
        /// debundled, free them).
        case moved(to: State)
        /// Nothing to write: the event repeats one already applied (a
        /// claim re-sent by the same claimant, a leaving reported twice) or
        /// changes nothing (a tick before the claim lapses).
        case unchanged
    }

    /// Why an event cannot apply to a bundle in its state.
    public enum Refusal: Error, Sendable, Hashable {
        /// Another passage holds the claim.
        case claimedByOther(Claim)
        /// The bundle has ended (debundled or used).
        case ended(State)
        /// Debundling a bundle a lane is deciding on.
        case debundleWhileClaimed(Claim)
        /// A leaving reported for a bundle no passage at that lane claimed.
        case notClaimedThere(State, lane: LaneID)
    }

    public static func apply(_ event: Event, to state: State) -> Result<Outcome, Refusal> {
        switch (state, event) {
        case (.active, .claim(let claim)):
            return .success(.moved(to: .claimed(claim)))
        case (.claimed(let held), .claim(let claim)):
            return held.claimant == claim.claimant ? .success(.unchanged) : .failure(.claimedByOther(held))
        case (.claimed(let held), .vehicleLeft(let lane)):
            return held.lane == lane
                ? .success(.moved(to: .used)) : .failure(.notClaimedThere(state, lane: lane))
        case (.used, .vehicleLeft):
            // The lane resends its report after a crash; the bundle was used once.
            return .success(.unchanged)
        case (.active, .vehicleLeft(let lane)), (.debundled, .vehicleLeft(let lane)):
            return .failure(.notClaimedThere(state, lane: lane))
        case (.active, .debundle):
            return .success(.moved(to: .debundled))
        case (.claimed(let held), .debundle):
            return .failure(.debundleWhileClaimed(held))
        case (.claimed(let held), .tick(let now)):
            return now.timeIntervalSince(held.at) >= claimLifetime
                ? .success(.moved(to: .used)) : .success(.unchanged)
        case (.active, .tick), (.debundled, .tick), (.used, .tick):
            return .success(.unchanged)
        case (.debundled, .claim), (.used, .claim), (.debundled, .debundle), (.used, .debundle):
            return .failure(.ended(state))
        }
    }
}

extension BundleLife.Refusal: CustomStringConvertible {
    public var description: String {
        switch self {
        case .claimedByOther(let claim):
            "the bundle is claimed by another passage (\(claim.claimant) at lane \(claim.lane))"
        case .ended(let state): "the bundle has ended (\(state))"
        case .debundleWhileClaimed(let claim):
            "the bundle's vehicle is at lane \(claim.lane), which decided on it; it cannot be debundled until the vehicle has left"
        case .notClaimedThere(let state, let lane):
            "no passage at lane \(lane) claimed the bundle (it is \(state))"
        }
    }
}

extension BundlingRules {
    /// Bundle times are whole seconds (rule: "times that rules compare and
    /// times that people read are the same"): completion is the second it
    /// happened in, so the earliest crossing printed to the second is the
    /// one the rule compares.
    public static func wholeSecond(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970).rounded(.down))
    }

    /// A stored earliest crossing that is not a whole second (a bundle made
    /// before times were whole seconds) counts from the next whole second,
    /// and is printed as that second: never earlier than the rule allows,
    /// and never a printed time at which the vehicle is still refused.
    public static func wholeSecondUp(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970).rounded(.up))
    }
}
