import ClearanceCore
import Foundation
import RoadCargo

/// Who may do what, and the refusals both stores give, beyond the rules of
/// ClearanceCore: one copy for ``SQLiteCargoStore`` and ``PostgresCargoStore``
/// (see the list in ``SQLiteCargoStore``'s documentation).
enum StoreRules {
    static func submitterKind(_ account: Account) throws -> SubmitterKind {
        switch account.role {
        case .shipper: .shipper
        case .agent: .agent
        case .driver, .officer, .immigration:
            throw AccessDenied(
                "only shipper and agent accounts submit consignments; \(account.name) is a \(account.role.rawValue)"
            )
        }
    }

    /// An officer amending keeps the submitter's kind, which the stored
    /// submission shows (agents fill in acting-on-behalf).
    static func amendingKind(_ account: Account, _ current: Consignment) -> SubmitterKind {
        switch account.role {
        case .agent: .agent
        case .shipper: .shipper
        case .driver, .officer, .immigration: current.submission.actingOnBehalf == nil ? .shipper : .agent
        }
    }

    static func checkBatchSize(_ submissions: [ConsignmentSubmission]) throws {
        guard submissions.count <= SubmissionRules.maximumBatch else {
            throw ValidationFailure(
                field: "consignments", rule: "batch.too-many",
                detail:
                    "a batch holds at most \(SubmissionRules.maximumBatch) consignments; this one has \(submissions.count)"
            )
        }
    }

    /// The consignment, when `account` may `action` it.
    static func own(_ found: Consignment?, _ ccrn: CCRN, _ account: Account, action: String) throws
        -> Consignment
    {
        guard let current = found else { throw StoreError.notFound("CCRN \(ccrn)") }
        guard account.role == .officer || current.submittedBy == account.name else {
            throw AccessDenied(
                "CCRN \(ccrn) was submitted by another account; only that account or an officer may \(action) it"
            )
        }
        return current
    }

    static func checkCreatesBundles(_ account: Account) throws {
        guard account.role == .driver else {
            throw AccessDenied(
                "only driver accounts create bundles; \(account.name) is a \(account.role.rawValue)")
        }
    }

    static func checkManagesWatchList(_ officer: Account) throws {
        guard officer.role == .officer else {
            throw AccessDenied(
                "only officers manage the watch list; \(officer.name) is a \(officer.role.rawValue)")
        }
    }

    /// Names are unique ignoring case, so `Driver-Ho` cannot pose as
    /// `driver-ho` in a list an officer reads.
    static func checkAccountName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 64, !name.contains(where: { $0.isWhitespace || $0.isNewline }),
            name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
        else {
            throw ValidationFailure(
                field: "name", rule: "account.name",
                detail: "an account name is 1 to 64 characters without spaces or control characters")
        }
    }

    /// A lane resending after a lost answer: the crossing happened once and
    /// its claim stands. The same id for another vehicle is a lane bug, and
    /// silently answering with the other vehicle would hide it.
    static func checkResend(requestID: String, first: DecisionRequest, again: DecisionRequest) throws {
        let same =
            first.lane.id == again.lane.id && first.vrn == again.vrn
            && first.unladenPressed == again.unladenPressed
            && Column.millis(first.arrivedAt) == Column.millis(again.arrivedAt)
        guard same else {
            throw RuleConflict(
                field: "requestID", rule: "crossing.request-id-reused",
                detail:
                    "request id \(requestID) was already recorded for \(first.vrn) at lane \(first.lane.id)")
        }
    }

    static func claimLost(_ ubr: UBR) -> RuleConflict {
        RuleConflict(
            field: "ubr", rule: "bundle.claim-lost",
            detail: "UBR \(ubr) changed while this decision was made; ask again")
    }

    static func offlineClaimLost(_ ubr: UBR) -> RuleConflict {
        RuleConflict(
            field: "ubr", rule: "bundle.claim-lost",
            detail: "UBR \(ubr) changed while an offline crossing was applied; it is applied again")
    }

    /// The case as the decision core takes it: the bundle as read with its
    /// life state (nil when there is none or it is not this claimant's to
    /// decide on), and the watch entries that match, each found by `isWatched`.
    static func judgeOpenBundle(
        _ found: CargoBundle?, life: BundleLife.State?, claimant: String?, at now: Date
    ) -> (bundle: CargoBundle?, state: BundleLife.State?) {
        guard var bundle = found, let life else { return (nil, nil) }
        switch life {
        case .claimed(let claim) where claim.claimant == claimant:
            guard case .success(.unchanged) = BundleLife.apply(.tick(now: now), to: life) else {
                return (nil, nil)
            }
            bundle.status = .active
            return (bundle, life)
        case .active:
            return (bundle, life)
        default:
            return (nil, nil)
        }
    }

    /// What an officer reads about a conflict: which bundle, what ended it
    /// or who holds it, and when (Hong Kong time, whole seconds).
    /// `usedBy` is the passage and lane that used the bundle, when known.
    static func conflictSentence(
        _ refusal: BundleLife.Refusal, bundle: CargoBundle, usedBy: (claimant: String?, lane: String?)
    ) -> String {
        let ubr = bundle.ubr
        func at(_ date: Date?) -> String {
            date.map { " at \(HongKongTime.displayString($0)) (HKT)" } ?? ""
        }
        switch refusal {
        case .claimedByOther(let held):
            return
                "UBR \(ubr) is claimed by passage \(held.claimant) at lane \(held.lane) since \(HongKongTime.displayString(held.at)) (HKT)"
        case .ended(.used):
            let who =
                usedBy.claimant.map { " by passage \($0)" + (usedBy.lane.map { " at lane \($0)" } ?? "") }
                ?? ""
            return "UBR \(ubr) was already used\(who)\(at(bundle.endedAt))"
        case .ended(.debundled):
            return "UBR \(ubr) was debundled\(at(bundle.endedAt))"
        case .ended(let state), .notClaimedThere(let state, _):
            return "UBR \(ubr) could not be claimed: it is \(state)"
        case .debundleWhileClaimed(let held):
            return "UBR \(ubr) is claimed by passage \(held.claimant) at lane \(held.lane)"
        }
    }

    /// Why an offline crossing's bundle cannot be the one it claims
    /// whatever its state: unknown, another VRN's, the other direction's.
    static func offlineMismatch(_ report: OfflineCrossing, ubr: UBR, bundle: CargoBundle?, lane: Lane)
        -> String?
    {
        guard let bundle else { return "UBR \(ubr) is not known at central" }
        if bundle.vrn != report.vrn { return "UBR \(ubr) is for VRN \(bundle.vrn), not \(report.vrn)" }
        if bundle.direction != lane.direction {
            return
                "UBR \(ubr) is for \(bundle.direction.rawValue), but lane \(lane.id) is \(lane.direction.rawValue)"
        }
        return nil
    }

    /// Only a conflict not yet acknowledged can be acknowledged.
    static func checkAcknowledgeable(_ record: OfflineCrossingRecord) throws {
        guard record.outcome == .conflict else {
            throw RuleConflict(
                field: "id", rule: "reconciliation.not-a-conflict",
                detail:
                    "offline crossing \(record.id) was reconciled as \(record.outcome.rawValue); only conflicts are acknowledged"
            )
        }
        if let by = record.acknowledgedBy, let at = record.acknowledgedAt {
            throw RuleConflict(
                field: "id", rule: "reconciliation.already-acknowledged",
                detail:
                    "offline crossing \(record.id) was already acknowledged by \(by) at \(HongKongTime.displayString(at)) (HKT)"
            )
        }
    }

    /// Adds one feed row's worth of per-lane counts.
    static func addCounts(
        _ counts: inout [LaneID: OfflineCrossingCounts], lane: LaneID, outcome: ReconciliationOutcome, n: Int,
        unacknowledged: Int
    ) {
        var c = counts[lane] ?? OfflineCrossingCounts()
        c.received += n
        switch outcome {
        case .applied: c.applied += n
        case .noBundle: c.noBundle += n
        case .conflict:
            c.conflicts += n
            c.openConflicts += unacknowledged
        }
        counts[lane] = c
    }
}
