import Foundation
import RoadCargo

/// Who is submitting: agents must fill in the acting-on-behalf section,
/// shippers must not.
public enum SubmitterKind: String, Sendable, Hashable, Codable {
    case shipper
    case agent
}

/// The submission rules of `CLEARANCE-RULES.md`.
public enum SubmissionRules {
    /// How far ahead a consignment may be submitted, and how long its CCRN
    /// stays valid after the submission day (briefing).
    public static let advanceDays = 14
    /// Batch files hold at most this many consignments (briefing).
    public static let maximumBatch = 999

    /// Rule 3: valid until the end of the submission day + 14 days, Hong Kong time.
    public static func validUntil(submittedAt: Date) -> CalendarDay {
        CalendarDay(containing: submittedAt).advanced(by: advanceDays)
    }

    /// Rule 1: the expected date lies between the submission day and the
    /// submission day + 14 days, both included.
    public static func checkWindow(expectedDate: CalendarDay, submittedAt: Date) throws(ValidationFailure) {
        let today = CalendarDay(containing: submittedAt)
        let last = today.advanced(by: advanceDays)
        guard expectedDate >= today, expectedDate <= last else {
            throw ValidationFailure(
                field: "expectedDate", rule: "submission.window",
                detail:
                    "the expected date must lie between \(today) and \(last) (at most \(advanceDays) days ahead, Hong Kong time); got \(expectedDate)"
            )
        }
    }

    /// Everything about a new submission: its fields, the role's section, the
    /// date window. Every issue is reported, not only the first.
    public static func validate(
        _ submission: ConsignmentSubmission, submittedAt: Date, by kind: SubmitterKind
    ) throws(ValidationFailure) {
        var issues = ConsignmentValidation.issues(in: submission)
        issues.append(contentsOf: roleIssues(submission, by: kind))
        do { try checkWindow(expectedDate: submission.expectedDate, submittedAt: submittedAt) } catch {
            issues.append(contentsOf: error.issues)
        }
        if !issues.isEmpty { throw ValidationFailure(issues) }
    }

    /// Rule 2: amend or withdraw only until bundled. An amendment keeps the
    /// CCRN and its Valid Until date, so the new expected date must lie
    /// between the amendment day and Valid Until.
    public static func checkAmend(
        _ current: Consignment, to submission: ConsignmentSubmission, at now: Date, by kind: SubmitterKind
    ) throws {
        try checkChangeable(current, action: "amended")
        var issues = ConsignmentValidation.issues(in: submission)
        if submission.direction != current.submission.direction {
            issues.append(
                ValidationIssue(
                    field: "direction", rule: "amend.direction",
                    detail: "the import/export indicator cannot change; withdraw and submit anew"))
        }
        // The same role rule as a new submission: an amendment must not slip
        // an acting-on-behalf section into a shipper's own consignment.
        issues.append(contentsOf: roleIssues(submission, by: kind))
        let today = CalendarDay(containing: now)
        if submission.expectedDate < today || submission.expectedDate > current.validUntil {
            issues.append(
                ValidationIssue(
                    field: "expectedDate", rule: "amend.window",
                    detail:
                        "the expected date must lie between \(today) and the CCRN's Valid Until date \(current.validUntil); got \(submission.expectedDate)"
                ))
        }
        if !issues.isEmpty { throw ValidationFailure(issues) }
    }

    /// Agents fill in the acting-on-behalf section; shippers leave it out.
    private static func roleIssues(_ submission: ConsignmentSubmission, by kind: SubmitterKind)
        -> [ValidationIssue]
    {
        switch (kind, submission.actingOnBehalf) {
        case (.agent, nil):
            [
                ValidationIssue(
                    field: "actingOnBehalf", rule: "submission.agent-on-behalf",
                    detail: "an agent must fill in the acting-on-behalf section")
            ]
        case (.shipper, .some):
            [
                ValidationIssue(
                    field: "actingOnBehalf", rule: "submission.shipper-on-behalf",
                    detail: "a shipper submits for itself; leave the acting-on-behalf section out")
            ]
        default: []
        }
    }

    public static func checkWithdraw(_ current: Consignment) throws {
        try checkChangeable(current, action: "withdrawn")
    }

    private static func checkChangeable(_ c: Consignment, action: String) throws {
        switch c.status {
        case .active: return
        case .bundled:
            throw RuleConflict(
                field: "ccrn", rule: "consignment.bundled",
                detail:
                    "CCRN \(c.ccrn) is in bundle \(c.bundledIn?.value ?? "?") and cannot be \(action); the driver must debundle it first"
            )
        case .withdrawn:
            throw RuleConflict(
                field: "ccrn", rule: "consignment.withdrawn", detail: "CCRN \(c.ccrn) was withdrawn")
        case .spent:
            throw RuleConflict(
                field: "ccrn", rule: "consignment.spent",
                detail: "CCRN \(c.ccrn) has crossed the boundary and cannot be \(action)")
        }
    }
}
