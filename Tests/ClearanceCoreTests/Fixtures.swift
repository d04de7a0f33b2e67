import ClearanceCore
import Foundation
import RoadCargo

/// Shared test data: the briefing's example consignment and bundle, and
/// builders that keep each test down to what it is about.
enum Fixtures {
    // MARK: Time

    /// A Hong Kong wall-clock time, "2009-10-24 22:56:44".
    static func hk(_ s: String) -> Date {
        try! HongKongTime.parse(s.replacingOccurrences(of: " ", with: "T") + "+08:00")
    }

    /// A UTC time, "2009-11-02 15:59:59".
    static func utc(_ s: String) -> Date {
        try! HongKongTime.parse(s.replacingOccurrences(of: " ", with: "T") + "Z")
    }

    static func day(_ s: String) -> CalendarDay { try! CalendarDay(s) }

    /// The briefing's bundle completion time.
    static let bundledAt = hk("2009-10-24 22:56:44")
    /// The briefing's CCRN's Valid Until date.
    static let validUntil = day("2009-11-16")

    // MARK: Identifiers

    static func vrn(_ s: String) -> VRN { try! VRN(s) }
    static let truck = vrn("VRN0912")
    static func ccrn(_ n: UInt64) -> CCRN { CCRN(payload: 200_000_000 + n) }
    static func ubr(_ n: UInt64) -> UBR { UBR(payload: 100_000_000 + n) }

    static func lane(_ direction: Direction, at cp: ControlPoint = .lokMaChau) -> Lane {
        Lane(
            id: try! LaneID("\(cp.rawValue)-\(direction == .inbound ? "IN" : "OUT")-1"), controlPoint: cp,
            direction: direction)
    }

    // MARK: Consignments

    static func party(_ name: String, country: String = "HK") -> Party {
        Party(name: name, countryCode: country, addressLines: ["1 Some Road"])
    }

    /// The smallest valid submission.
    static func submission(
        _ direction: Direction = .inbound, on date: CalendarDay = day("2009-11-05"),
        consignee: String = "Fu Wing Co. Ltd"
    ) -> ConsignmentSubmission {
        ConsignmentSubmission(
            direction: direction, expectedDate: date, consignor: party("Winning Co. Ltd."),
            consignee: party(consignee, country: "CN"),
            goodsItems: [
                GoodsItem(description: "Copper Button", grossWeight: Measure(value: 550, unit: "KGM"))
            ])
    }

    /// The briefing's single-submission form with every part filled in,
    /// submitted by an agent for a company.
    static let briefingSubmission = ConsignmentSubmission(
        direction: .outbound, expectedDate: day("2009-11-07"),
        consignor: Party(
            name: "Winning Co. Ltd.", countryCode: "HK",
            addressLines: ["Flat D, 22/F,", "333 Nathan Road, Mong Kok", "Kowloon"],
            subEntityName: "Kowloon", subEntityCode: "KLN", postcode: "000000"),
        consignee: Party(
            name: "Fu Wing Co. Ltd", countryCode: "CN",
            addressLines: ["Flat E,", "Shek Lung Tsuen", "Shenzhen"],
            subEntityName: "Guangdong", subEntityCode: "GD", postcode: "518000"),
        goodsItems: [
            GoodsItem(
                description: "Copper Button", grossWeight: Measure(value: 550, unit: "KGM"),
                netQuantity: Measure(value: 540, unit: "KGM")),
            GoodsItem(
                description: "Microwave ovens", packaging: Packaging(count: 40, kind: "CT"),
                grossVolume: Measure(value: 3.5, unit: "MTQ"), netQuantity: Measure(value: 40, unit: "PCE"),
                permits: [
                    Permit(
                        number: "TID-2009-000123", issuingAuthority: "Trade and Industry Department",
                        type: "Export licence")
                ]),
        ],
        transhipment: Transhipment(
            portOfLoading: "CNSZX", portOfDischarge: "USLAX", conveyanceReference: "MV Orient 123"),
        expectedControlPoint: .lokMaChau, sealNumber: "38448", containerNumber: "HJLS2345217",
        ucr: "9HK-12345678-20091231", equipmentSizeAndType: "Others", senderReference: "20091231-001",
        actingOnBehalf: ActingOnBehalf(
            agentRole: .dataEntry, shipperType: .company, shipperName: "陳永禎",
            businessRegistration: "12345678-001"))

    static func consignment(
        _ n: UInt64, _ direction: Direction = .inbound, validUntil: CalendarDay = validUntil,
        status: ConsignmentStatus = .active, consignee: String = "Fu Wing Co. Ltd", bundledIn: UBR? = nil
    ) -> Consignment {
        Consignment(
            ccrn: ccrn(n), submission: submission(direction, consignee: consignee), submittedBy: "winning-co",
            submittedAt: validUntil.advanced(by: -SubmissionRules.advanceDays).start.addingTimeInterval(3600),
            validUntil: validUntil, status: status, bundledIn: bundledIn)
    }

    static func index(_ consignments: [Consignment]) -> [CCRN: Consignment] {
        Dictionary(uniqueKeysWithValues: consignments.map { ($0.ccrn, $0) })
    }

    // MARK: Bundles and decisions

    static func bundle(
        _ n: UInt64 = 101_416, vrn: VRN = truck, _ direction: Direction = .inbound, ccrns: [CCRN] = [ccrn(1)],
        completedAt: Date = bundledAt, status: BundleStatus = .active,
        expecting cp: ControlPoint? = .lokMaChau,
        driver: String = "driver-ho"
    ) -> CargoBundle {
        CargoBundle(
            ubr: ubr(n), driverName: "Ho Wa Ping", driverAccount: driver, vrn: vrn, direction: direction,
            expectedControlPoint: cp, ccrns: ccrns, completedAt: completedAt,
            earliestCrossing: BundlingRules.earliestCrossing(completedAt: completedAt), status: status)
    }

    static let key = Data(repeating: 7, count: 32)

    static func policy(
        _ phase: ImplementationPhase = .full, laden: Double = 0, unladen: Double = 0, key: Data = key
    ) -> DecisionPolicy {
        DecisionPolicy(
            phase: phase, selection: SelectionSettings(key: key, ladenRate: laden, unladenRate: unladen))
    }

    /// One vehicle at one lane, with the briefing's bundle and its consignment by default.
    static func decide(
        at arrival: Date, lane: Lane = lane(.inbound), vrn: VRN = truck, unladen: Bool = false,
        bundle: CargoBundle? = bundle(), consignments: [Consignment] = [consignment(1)],
        watch: [WatchTarget] = [], policy: DecisionPolicy = policy()
    ) -> Decision {
        DecisionCore.decide(
            DecisionCase(
                request: DecisionRequest(lane: lane, vrn: vrn, arrivedAt: arrival, unladenPressed: unladen),
                bundle: bundle, consignments: index(consignments), watchList: WatchList(watch)),
            policy: policy)
    }
}

extension Decision {
    /// "INSPECT EARLY_CROSSING", as a table row reads.
    var answer: String { "\(instruction.rawValue) \(reason.rawValue)" }
}

/// The issues a throwing call reported, whichever refusal type carried them.
func refusal(_ body: () throws -> Void) -> [ValidationIssue]? {
    do {
        try body()
        return nil
    } catch let f as ValidationFailure {
        return f.issues
    } catch let c as RuleConflict {
        return c.issues
    } catch {
        return [ValidationIssue(field: "", rule: "other", detail: "\(error)")]
    }
}
