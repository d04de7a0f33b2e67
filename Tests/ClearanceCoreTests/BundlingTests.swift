import ClearanceCore
import Foundation
import RoadCargo
import Testing

private typealias F = Fixtures

@Suite("Bundling and debundling")
struct BundlingTests {
    static let now = F.bundledAt

    static func request(_ ccrns: [CCRN], _ direction: Direction = .inbound, driver: String = "Ho Wa Ping")
        -> BundleRequest
    {
        BundleRequest(
            driverName: driver, vrn: F.truck, direction: direction, expectedControlPoint: .lokMaChau,
            ccrns: ccrns)
    }

    @Test("a good bundle completes with the earliest crossing 30 minutes later")
    func completes() throws {
        let r = Self.request([F.ccrn(1), F.ccrn(2)], driver: "  Ho Wa Ping ")
        try BundlingRules.check(
            r, consignments: F.index([F.consignment(1), F.consignment(2)]), activeBundle: nil, now: Self.now)
        let b = BundlingRules.complete(r, ubr: F.ubr(101_416), driverAccount: "driver-ho", at: Self.now)
        #expect(HongKongTime.displayString(b.earliestCrossing) == "2009-10-24 23:26:44")
        #expect(b.status == .active)
        #expect(b.driverName == "Ho Wa Ping")
        #expect(b.ccrns == [F.ccrn(1), F.ccrn(2)])
    }

    @Test("the whole bundle is refused, naming each offending CCRN")
    func namesEach() {
        let consignments = [
            F.consignment(1),
            F.consignment(3, validUntil: F.day("2009-10-23")),
            F.consignment(4, .outbound),
            F.consignment(5, status: .withdrawn),
            F.consignment(6, status: .spent),
            F.consignment(7, status: .bundled, bundledIn: F.ubr(77)),
        ]
        let r = Self.request([
            F.ccrn(1), F.ccrn(2), F.ccrn(3), F.ccrn(4), F.ccrn(5), F.ccrn(6), F.ccrn(7), F.ccrn(1),
        ])
        let issues = refusal {
            try BundlingRules.check(r, consignments: F.index(consignments), activeBundle: nil, now: Self.now)
        }
        #expect(
            issues?.map(\.rule) == [
                "bundle.ccrn-unknown", "bundle.ccrn-expired", "bundle.ccrn-direction",
                "bundle.ccrn-withdrawn",
                "bundle.ccrn-spent", "bundle.ccrn-bundled", "bundle.ccrn-duplicate",
            ])
        #expect(issues?.map(\.field) == (1...7).map { "ccrns[\($0)]" })
        for (issue, n) in zip(issues ?? [], [2, 3, 4, 5, 6, 7, 1] as [UInt64]) {
            #expect(issue.detail.contains(F.ccrn(n).value), "\(issue)")
        }
    }

    @Test("a CCRN is valid for bundling until the end of its Valid Until day, Hong Kong time")
    func expiryAtBundling() {
        let c = [F.consignment(1)]
        let r = Self.request([F.ccrn(1)])
        #expect(
            refusal {
                try BundlingRules.check(
                    r, consignments: F.index(c), activeBundle: nil, now: F.utc("2009-11-16 15:59:59"))
            } == nil)
        #expect(
            refusal {
                try BundlingRules.check(
                    r, consignments: F.index(c), activeBundle: nil, now: F.utc("2009-11-16 16:00:00"))
            }?.map(\.rule) == ["bundle.ccrn-expired"])
    }

    @Test("one CCRN offered to two bundles: the second is refused, naming it")
    func twoBundles() throws {
        var store = F.index([F.consignment(1), F.consignment(2)])
        let first = Self.request([F.ccrn(1)])
        try BundlingRules.check(first, consignments: store, activeBundle: nil, now: Self.now)
        let b = BundlingRules.complete(first, ubr: F.ubr(1), driverAccount: "driver-ho", at: Self.now)
        store[F.ccrn(1)]?.status = .bundled
        store[F.ccrn(1)]?.bundledIn = b.ubr
        // Another truck, same CCRN.
        let second = BundleRequest(
            driverName: "Chan", vrn: F.vrn("AB1234"), direction: .inbound, ccrns: [F.ccrn(2), F.ccrn(1)])
        let issues = refusal {
            try BundlingRules.check(second, consignments: store, activeBundle: nil, now: Self.now)
        }
        #expect(issues?.map(\.rule) == ["bundle.ccrn-bundled"])
        #expect(issues?.first?.field == "ccrns[1]")
        #expect(issues?.first?.detail.contains(F.ccrn(1).value) == true)
        #expect(issues?.first?.detail.contains(b.ubr.value) == true)
    }

    @Test("a VRN has one active bundle per direction")
    func onePerDirection() throws {
        let store = F.index([F.consignment(1), F.consignment(2, .outbound)])
        let activeImport = F.bundle(1, .inbound, ccrns: [F.ccrn(9)])
        do {
            try BundlingRules.check(
                Self.request([F.ccrn(1)]), consignments: store, activeBundle: activeImport, now: Self.now)
            Issue.record("a second active import bundle was accepted")
        } catch let c as RuleConflict {
            #expect(c.issues.map(\.rule) == ["bundle.vrn-active"])
            #expect(c.issues.first?.detail.contains(activeImport.ubr.value) == true)
        }
        // The export bundle is a different direction: the import one does not block it.
        try BundlingRules.check(
            Self.request([F.ccrn(2)], .outbound), consignments: store, activeBundle: activeImport,
            now: Self.now)
        // Once the old bundle is used or debundled, a new one is fine.
        for status in [BundleStatus.used, .debundled] {
            try BundlingRules.check(
                Self.request([F.ccrn(1)]), consignments: store, activeBundle: F.bundle(1, status: status),
                now: Self.now)
        }
    }

    @Test(
        "the request itself: driver name and CCRN count",
        arguments: [
            ("", 1, "bundle.driver-name"), ("   ", 1, "bundle.driver-name"),
            (String(repeating: "x", count: 71), 1, "bundle.driver-name"), ("Ho", 0, "bundle.ccrns-empty"),
            // 70 characters of 600 bytes each.
            (
                String(repeating: "x" + String(repeating: "\u{301}", count: 299), count: 70), 1,
                "bundle.driver-name"
            ),
            ("Ho", 1000, "bundle.ccrns-too-many"),
        ])
    func requestShape(driver: String, count: Int, rule: String) {
        let consignments = (0..<count).map { F.consignment(UInt64($0)) }
        let r = Self.request(consignments.map(\.ccrn), driver: driver)
        let issues = refusal {
            try BundlingRules.check(r, consignments: F.index(consignments), activeBundle: nil, now: Self.now)
        }
        #expect(issues?.map(\.rule) == [rule])
    }

    @Test("debundling: only an active bundle, only by its driver or an officer")
    func debundle() throws {
        try BundlingRules.checkDebundle(F.bundle(), by: "driver-ho", isOfficer: false)
        try BundlingRules.checkDebundle(F.bundle(), by: "officer-chan", isOfficer: true)
        #expect(throws: AccessDenied.self) {
            try BundlingRules.checkDebundle(F.bundle(), by: "driver-lee", isOfficer: false)
        }
        // Someone else's bundle is refused as such whatever its state, so its state is not revealed.
        #expect(throws: AccessDenied.self) {
            try BundlingRules.checkDebundle(F.bundle(status: .used), by: "driver-lee", isOfficer: false)
        }
        for (status, rule) in [(BundleStatus.used, "bundle.used"), (.debundled, "bundle.debundled")] {
            for (account, officer) in [("driver-ho", false), ("officer-chan", true)] {
                #expect(
                    refusal {
                        try BundlingRules.checkDebundle(
                            F.bundle(status: status), by: account, isOfficer: officer)
                    }?
                    .map(\.rule) == [rule])
            }
        }
    }
}
