import ClearanceCore
import Foundation
import RoadCargo
import Testing

private typealias F = Fixtures

/// The rules chained as central applies them, with the state changes a store
/// would make kept in plain variables: submit, bundle, amend (refused),
/// debundle, amend, bundle again, cross, and nothing more after that.
@Suite("A consignment's life")
struct StoryTests {
    @Test("submit, bundle, debundle, amend, bundle, cross, spent")
    func life() throws {
        let submittedAt = F.hk("2009-10-24 10:00:00")
        let submission = F.submission(.inbound, on: F.day("2009-10-25"))
        try SubmissionRules.validate(submission, submittedAt: submittedAt, by: .shipper)
        var consignment = Consignment(
            ccrn: F.ccrn(1), submission: submission, submittedBy: "winning-co", submittedAt: submittedAt,
            validUntil: SubmissionRules.validUntil(submittedAt: submittedAt))
        #expect(consignment.validUntil.description == "2009-11-07")

        // Bundle at the briefing's time.
        let request = BundleRequest(
            driverName: "Ho Wa Ping", vrn: F.truck, direction: .inbound, ccrns: [F.ccrn(1)])
        try BundlingRules.check(
            request, consignments: F.index([consignment]), activeBundle: nil, now: F.bundledAt)
        var bundle = BundlingRules.complete(
            request, ubr: F.ubr(1), driverAccount: "driver-ho", at: F.bundledAt)
        consignment.status = .bundled
        consignment.bundledIn = bundle.ubr

        // The shipper may not amend now.
        let amended = F.submission(.inbound, on: F.day("2009-10-26"))
        #expect(
            refusal {
                try SubmissionRules.checkAmend(consignment, to: amended, at: F.bundledAt, by: .shipper)
            }?
            .map(\.rule) == ["consignment.bundled"])

        // The driver debundles; the CCRN is free and the amendment passes, keeping Valid Until.
        try BundlingRules.checkDebundle(bundle, by: "driver-ho", isOfficer: false)
        bundle.status = .debundled
        consignment.status = .active
        consignment.bundledIn = nil
        try SubmissionRules.checkAmend(
            consignment, to: amended, at: F.hk("2009-10-24 23:00:00"), by: .shipper)
        consignment.submission = amended
        #expect(consignment.validUntil.description == "2009-11-07")

        // Bundle again; the debundled bundle does not block the VRN.
        let rebundledAt = F.hk("2009-10-25 08:00:00")
        try BundlingRules.check(
            request, consignments: F.index([consignment]), activeBundle: bundle, now: rebundledAt)
        var second = BundlingRules.complete(
            request, ubr: F.ubr(2), driverAccount: "driver-ho", at: rebundledAt)
        consignment.status = .bundled
        consignment.bundledIn = second.ubr

        func decide(_ at: String, _ b: CargoBundle) -> Decision {
            F.decide(at: F.hk(at), bundle: b, consignments: [consignment])
        }
        #expect(decide("2009-10-25 08:29:59", second).answer == "INSPECT EARLY_CROSSING")
        let crossing = decide("2009-10-25 08:30:00", second)
        #expect(crossing.answer == "CLEARED BUNDLE_OK")
        #expect(crossing.ubr == second.ubr)

        // The vehicle leaves: the bundle is used and its CCRN spent.
        second.status = .used
        consignment.status = .spent
        #expect(decide("2009-10-25 09:00:00", second).answer == "INSPECT NO_BUNDLE")
        #expect(
            refusal { try BundlingRules.checkDebundle(second, by: "driver-ho", isOfficer: false) }?.map(
                \.rule)
                == ["bundle.used"])
        #expect(
            refusal {
                try BundlingRules.check(
                    request, consignments: F.index([consignment]), activeBundle: nil,
                    now: F.hk("2009-10-25 09:00:00"))
            }?.map(\.rule) == ["bundle.ccrn-spent"])
        #expect(
            refusal { try SubmissionRules.checkWithdraw(consignment) }?.map(\.rule) == ["consignment.spent"])
    }
}
