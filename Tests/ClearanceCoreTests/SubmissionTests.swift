import ClearanceCore
import Foundation
import RoadCargo
import Testing

private typealias F = Fixtures

@Suite("Submission, Valid Until and amendment")
struct SubmissionTests {
    /// The last second of a Hong Kong day and the first of the next, written
    /// in UTC: the test process runs in UTC, where both are the same UTC day.
    static let lastSecondOfNov2 = F.utc("2009-11-02 15:59:59")
    static let firstSecondOfNov3 = F.utc("2009-11-02 16:00:00")

    @Test("Valid Until is the submission day in Hong Kong + 14")
    func validUntil() {
        #expect(SubmissionRules.validUntil(submittedAt: Self.lastSecondOfNov2).description == "2009-11-16")
        #expect(SubmissionRules.validUntil(submittedAt: Self.firstSecondOfNov3).description == "2009-11-17")
        #expect(
            SubmissionRules.validUntil(submittedAt: F.hk("2009-11-02 00:00:00")).description == "2009-11-16")
    }

    @Test("a CCRN is valid at the last second of its 14th day and not one second later")
    func validityEdge() {
        let c = Consignment(
            ccrn: F.ccrn(1), submission: F.submission(), submittedBy: "winning-co",
            submittedAt: Self.lastSecondOfNov2,
            validUntil: SubmissionRules.validUntil(submittedAt: Self.lastSecondOfNov2))
        #expect(c.isValid(at: F.hk("2009-11-16 23:59:59")))
        #expect(c.isValid(at: F.hk("2009-11-16 23:59:59").addingTimeInterval(0.999)))
        #expect(!c.isValid(at: F.hk("2009-11-17 00:00:00")))
        #expect(!c.isValid(at: F.utc("2009-11-16 16:00:00")))
    }

    @Test(
        "the window includes both ends, in Hong Kong days",
        arguments: [
            (lastSecondOfNov2, "2009-11-01", false), (lastSecondOfNov2, "2009-11-02", true),
            (lastSecondOfNov2, "2009-11-16", true), (lastSecondOfNov2, "2009-11-17", false),
            (firstSecondOfNov3, "2009-11-02", false), (firstSecondOfNov3, "2009-11-03", true),
            (firstSecondOfNov3, "2009-11-17", true), (firstSecondOfNov3, "2009-11-18", false),
        ])
    func window(submittedAt: Date, expected: String, accepted: Bool) {
        let s = F.submission(on: F.day(expected))
        let issues = refusal { try SubmissionRules.validate(s, submittedAt: submittedAt, by: .shipper) }
        if accepted {
            #expect(issues == nil)
        } else {
            #expect(issues?.map(\.rule) == ["submission.window"])
            #expect(issues?.first?.field == "expectedDate")
        }
    }

    @Test("an agent must act on behalf of someone; a shipper must not")
    func roles() {
        let at = F.hk("2009-11-02 10:00:00")
        var s = F.submission()
        #expect(refusal { try SubmissionRules.validate(s, submittedAt: at, by: .shipper) } == nil)
        #expect(
            refusal { try SubmissionRules.validate(s, submittedAt: at, by: .agent) }?.map(\.rule)
                == ["submission.agent-on-behalf"])
        s.actingOnBehalf = ActingOnBehalf(
            agentRole: .freightForwarder, shipperType: .company, shipperName: "Winning")
        #expect(refusal { try SubmissionRules.validate(s, submittedAt: at, by: .agent) } == nil)
        #expect(
            refusal { try SubmissionRules.validate(s, submittedAt: at, by: .shipper) }?.map(\.rule)
                == ["submission.shipper-on-behalf"])
    }

    @Test("every issue at once: fields, role and window")
    func everyIssue() {
        var s = F.submission(on: F.day("2009-12-31"))
        s.consignee.countryCode = "China"
        s.goodsItems[0].grossWeight = nil
        let rules = refusal {
            try SubmissionRules.validate(s, submittedAt: F.hk("2009-11-02 10:00:00"), by: .agent)
        }?
        .map(\.rule)
        #expect(
            rules == [
                "party.country-code", "goods.gross-measure", "submission.agent-on-behalf",
                "submission.window",
            ])
    }

    // MARK: Amendment and withdrawal

    /// Submitted 2009-11-02, so Valid Until 2009-11-16.
    static let current = F.consignment(1, validUntil: F.day("2009-11-16"))
    static let amendDay = F.hk("2009-11-10 09:00:00")

    @Test(
        "an amendment keeps Valid Until: its date lies between today and Valid Until",
        arguments: [
            ("2009-11-09", false), ("2009-11-10", true), ("2009-11-16", true), ("2009-11-17", false),
            ("2009-11-24", false),
        ])
    func amendWindow(date: String, accepted: Bool) {
        let issues = refusal {
            try SubmissionRules.checkAmend(
                Self.current, to: F.submission(on: F.day(date)), at: Self.amendDay, by: .shipper)
        }
        #expect(issues?.map(\.rule) == (accepted ? nil : ["amend.window"]))
    }

    static let inWindow = F.day("2009-11-12")

    @Test("an amendment cannot change the direction or add an agent's section for a shipper")
    func amendFields() {
        #expect(
            refusal {
                try SubmissionRules.checkAmend(
                    Self.current, to: F.submission(.outbound, on: Self.inWindow), at: Self.amendDay,
                    by: .shipper)
            }?.map(\.rule) == ["amend.direction"])
        var s = F.submission(on: Self.inWindow)
        s.actingOnBehalf = ActingOnBehalf(agentRole: .dataEntry, shipperType: .company, shipperName: "X")
        #expect(
            refusal { try SubmissionRules.checkAmend(Self.current, to: s, at: Self.amendDay, by: .shipper) }?
                .map(\.rule) == ["submission.shipper-on-behalf"])
        #expect(
            refusal {
                try SubmissionRules.checkAmend(
                    Self.current, to: F.submission(on: Self.inWindow), at: Self.amendDay, by: .agent)
            }?
            .map(\.rule) == ["submission.agent-on-behalf"])
    }

    @Test(
        "amend and withdraw only until bundled",
        arguments: [
            (ConsignmentStatus.bundled, "consignment.bundled"), (.withdrawn, "consignment.withdrawn"),
            (.spent, "consignment.spent"),
        ])
    func frozen(status: ConsignmentStatus, rule: String) {
        let c = F.consignment(1, status: status, bundledIn: status == .bundled ? F.ubr(1) : nil)
        for body in [
            { try SubmissionRules.checkAmend(c, to: F.submission(), at: Self.amendDay, by: .shipper) },
            { try SubmissionRules.checkWithdraw(c) },
        ] {
            do {
                try body()
                Issue.record("a \(status) consignment was changed")
            } catch let conflict as RuleConflict {
                #expect(conflict.issues.map(\.rule) == [rule])
                #expect(conflict.issues.first?.field == "ccrn")
            } catch {
                Issue.record("expected a RuleConflict, got \(error)")
            }
        }
    }

    @Test("the conflict after bundling tells the shipper to have the driver debundle")
    func bundledMessage() {
        let c = F.consignment(1, status: .bundled, bundledIn: F.ubr(101_416))
        let issues = refusal { try SubmissionRules.checkWithdraw(c) }
        #expect(issues?.first?.detail.contains("1001014164") == true)
        #expect(issues?.first?.detail.contains("debundle") == true)
    }
}
