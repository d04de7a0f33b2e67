import Foundation
import RoadCargo

/// The bundling rules of `CLEARANCE-RULES.md`.
public enum BundlingRules {
    /// Drivers bundle at least this long before crossing (briefing).
    public static let minimumLeadTime: TimeInterval = 30 * 60
    /// More CCRNs than a form has room for is a mistake, not a truck.
    public static let maximumCCRNs = 999
    /// The driver's name: 70 characters, 280 bytes of UTF-8.
    public static let driverNameLimit = TextLimit(characters: 70)

    public static func earliestCrossing(completedAt: Date) -> Date {
        completedAt.addingTimeInterval(minimumLeadTime)
    }

    /// Checks a bundle request against what is stored (rules 1 and 3).
    ///
    /// - Parameters:
    ///   - consignments: every stored consignment among the request's CCRNs;
    ///     a CCRN missing here does not exist.
    ///   - activeBundle: the VRN's active bundle in the request's direction.
    /// - Throws: ``ValidationFailure`` naming each offending CCRN (the whole
    ///   bundle is refused), or ``RuleConflict`` when the VRN already has an
    ///   active bundle in that direction.
    public static func check(
        _ request: BundleRequest, consignments: [CCRN: Consignment], activeBundle: CargoBundle?, now: Date
    ) throws {
        var c = IssueCollector()
        if request.driverName.trimmingCharacters(in: .whitespaces).isEmpty {
            c.add("driverName", "bundle.driver-name", "the driver's name is required")
        } else if !Self.driverNameLimit.allows(request.driverName) {
            c.add(
                "driverName", "bundle.driver-name",
                "the driver's name has \(Self.driverNameLimit); this one \(Self.driverNameLimit.measured(request.driverName))"
            )
        }
        if request.ccrns.isEmpty {
            c.add("ccrns", "bundle.ccrns-empty", "a bundle names at least one CCRN")
        } else if request.ccrns.count > maximumCCRNs {
            c.add("ccrns", "bundle.ccrns-too-many", "a bundle names at most \(maximumCCRNs) CCRNs")
        }
        var seen = Set<CCRN>()
        for (i, ccrn) in request.ccrns.enumerated() {
            let field = "ccrns[\(i)]"
            guard seen.insert(ccrn).inserted else {
                c.add(field, "bundle.ccrn-duplicate", "CCRN \(ccrn) is named twice")
                continue
            }
            guard let consignment = consignments[ccrn] else {
                c.add(field, "bundle.ccrn-unknown", "CCRN \(ccrn) does not exist")
                continue
            }
            switch consignment.status {
            case .withdrawn:
                c.add(field, "bundle.ccrn-withdrawn", "CCRN \(ccrn) was withdrawn by its submitter")
                continue
            case .spent:
                c.add(field, "bundle.ccrn-spent", "CCRN \(ccrn) has already crossed the boundary")
                continue
            case .bundled:
                c.add(
                    field, "bundle.ccrn-bundled",
                    "CCRN \(ccrn) is in another active bundle"
                        + (consignment.bundledIn.map { " (UBR \($0))" } ?? "") + "; debundle it first")
                continue
            case .active:
                break
            }
            if !consignment.isValid(at: now) {
                c.add(field, "bundle.ccrn-expired", "CCRN \(ccrn) was valid until \(consignment.validUntil)")
            }
            if consignment.submission.direction != request.direction {
                c.add(
                    field, "bundle.ccrn-direction",
                    "CCRN \(ccrn) is an \(consignment.submission.direction) consignment; the bundle is \(request.direction)"
                )
            }
        }
        try c.throwIfAny()
        // Rule 3 is per VRN and direction: a bundle for the other direction
        // (or another vehicle) handed in by mistake must not block this one.
        if let active = activeBundle, active.status == .active || active.status == .claimed,
            active.vrn == request.vrn,
            active.direction == request.direction
        {
            throw RuleConflict(
                field: "vrn", rule: "bundle.vrn-active",
                detail:
                    "vehicle \(request.vrn) already has an active \(request.direction) bundle (UBR \(active.ubr)); debundle it or cross first"
            )
        }
    }

    /// Builds the completed bundle once ``check(_:consignments:activeBundle:now:)`` passed.
    /// Its completion is the whole second `now` falls in, so that its
    /// earliest crossing is a whole second too (``wholeSecond(_:)``).
    public static func complete(_ request: BundleRequest, ubr: UBR, driverAccount: String, at now: Date)
        -> CargoBundle
    {
        let now = wholeSecond(now)
        return CargoBundle(
            ubr: ubr, driverName: request.driverName.trimmingCharacters(in: .whitespaces),
            driverAccount: driverAccount, vrn: request.vrn, direction: request.direction,
            expectedControlPoint: request.expectedControlPoint, ccrns: request.ccrns, completedAt: now,
            earliestCrossing: earliestCrossing(completedAt: now))
    }

    /// Debundling (rule 4): only an active bundle, only by the driver who made it
    /// (officers may too).
    public static func checkDebundle(_ bundle: CargoBundle, by account: String, isOfficer: Bool) throws {
        guard isOfficer || bundle.driverAccount == account else {
            throw AccessDenied(
                "UBR \(bundle.ubr) belongs to another driver; only that driver or an officer may debundle it")
        }
        switch bundle.status {
        case .active: return
        case .claimed:
            throw RuleConflict(
                field: "ubr", rule: "bundle.claimed",
                detail:
                    "UBR \(bundle.ubr) is being used: a lane decided about its vehicle, which has not left yet; it cannot be debundled"
            )
        case .used:
            throw RuleConflict(
                field: "ubr", rule: "bundle.used",
                detail: "UBR \(bundle.ubr) was used to cross and cannot be debundled")
        case .debundled:
            throw RuleConflict(
                field: "ubr", rule: "bundle.debundled", detail: "UBR \(bundle.ubr) is already debundled")
        }
    }
}
