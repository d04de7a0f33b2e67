import CargoStore
import ClearanceCore
import Foundation
import RoadCargo

/// The synthetic data, derived from the bundle count alone so a reused file
/// and this run agree on which vehicles exist.
struct Dataset: Sendable {
    struct Key: Sendable {
        var vrn: VRN
        var direction: Direction
    }

    let bundles: Int
    /// A tenth of the bundles: each vehicle has about ten, five per direction.
    let vehicles: Int
    /// The data's time: by default a fixed one, so that decisions (and
    /// random selection) are the same on every run and on a reused file.
    let now: Date
    /// Every `earlyEvery`th vehicle's active import bundle lets it cross
    /// only after `now` (nil: none).
    let earlyEvery: Int?
    static let fixedNow = try! HongKongTime.parse("2025-01-06T10:00:00+08:00")
    let inbound = Lane(id: try! LaneID("LMC-IN-01"), controlPoint: .lokMaChau, direction: .inbound)
    let outbound = Lane(id: try! LaneID("LMC-OUT-01"), controlPoint: .lokMaChau, direction: .outbound)

    init(bundles: Int, now: Date = fixedNow, earlyEvery: Int? = nil) {
        self.bundles = bundles
        self.now = now
        self.earlyEvery = earlyEvery
        vehicles = bundles / 10
    }

    /// Ordinary Hong Kong marks: two letters without I, O or Q, then 1 to 9999.
    static let letters = Array("ABCDEFGHJKLMNPRSTUVWXYZ")

    func vrn(_ j: Int) -> VRN {
        let prefix = j / 9999
        let a = Self.letters[prefix / Self.letters.count % Self.letters.count]
        let b = Self.letters[prefix % Self.letters.count]
        // validate() keeps j below 23 * 23 * 9999, so two letters suffice.
        return try! VRN("\(a)\(b)\(j % 9999 + 1)")
    }

    /// Bundle i belongs to vehicle i % vehicles, in round i / vehicles; even
    /// rounds are imports, odd ones exports; the last round of each direction
    /// is active, the earlier ones were used.
    func populate(_ store: SQLiteCargoStore) async throws {
        var rng = SystemRandomNumberGenerator()
        var numbers = Set<UInt64>(minimumCapacity: 2 * bundles)
        while numbers.count < 2 * bundles {
            numbers.insert(UInt64.random(in: 100_000_000...999_999_999, using: &rng))
        }
        var shuffled = Array(numbers)
        shuffled.shuffle(using: &rng)
        // Sorted within each kind: rows go into the B-trees in key order.
        let ccrns = shuffled[..<bundles].sorted().map { CCRN(payload: $0) }
        let ubrs = shuffled[bundles...].sorted().map { UBR(payload: $0) }

        let consignees = (0..<100).map { "Importer \($0) Trading Company Limited" }
        func submission(_ direction: Direction, _ k: Int) -> ConsignmentSubmission {
            ConsignmentSubmission(
                direction: direction, expectedDate: CalendarDay(containing: now),
                consignor: Party(
                    name: "Shenzhen Winning Manufacturing Co", countryCode: "CN",
                    addressLines: ["88 Shennan Road", "Futian", "Shenzhen"]),
                consignee: Party(
                    name: consignees[k], countryCode: "HK",
                    addressLines: ["2 Castle Peak Road", "Kwai Chung", "New Territories"]),
                goodsItems: [
                    GoodsItem(
                        description: "Plastic toys, assorted", packaging: Packaging(count: 40, kind: "CT"),
                        grossWeight: Measure(value: 880, unit: "KGM"))
                ],
                expectedControlPoint: .lokMaChau, containerNumber: "MSCU1234565")
        }
        var templates: [Direction: [String]] = [:]
        for d in Direction.allCases {
            templates[d] = try (0..<100).map { try BulkLoader.json(submission(d, $0)) }
        }
        let rounds = (bundles + vehicles - 1) / vehicles

        try store.bulkLoad { loader in
            for i in 0..<bundles {
                let (j, r) = (i % vehicles, i / vehicles)
                let direction: Direction = r % 2 == 0 ? .inbound : .outbound
                let active = i + 2 * vehicles >= bundles
                let early = active && direction == .inbound && earlyEvery.map { j % $0 == $0 - 1 } == true
                let completed = now.addingTimeInterval(early ? 3600 : -3600 * Double(rounds - r))
                let submitted = completed.addingTimeInterval(-3600)
                let k = i % 100
                let consignment = Consignment(
                    ccrn: ccrns[i], submission: submission(direction, k), submittedBy: "shipper-\(j % 500)",
                    submittedAt: submitted, validUntil: SubmissionRules.validUntil(submittedAt: submitted),
                    status: active ? .bundled : .spent, bundledIn: ubrs[i])
                try loader.insert(consignment, submissionJSON: templates[direction]![k])
                let request = BundleRequest(
                    driverName: "Driver \(j)", vrn: vrn(j), direction: direction,
                    expectedControlPoint: .lokMaChau, ccrns: [ccrns[i]])
                var bundle = BundlingRules.complete(
                    request, ubr: ubrs[i], driverAccount: "driver-\(j)", at: completed)
                if !active {
                    bundle.status = .used
                    bundle.endedAt = bundle.earliestCrossing
                }
                try loader.insert(bundle)
            }
        }
        // A watch list of realistic size: a few hundred plates (a tenth of
        // them in the data) and one consignee, so about 1% are TARGETED.
        let officer = Account(name: "bench-officer", role: .officer)
        for n in 0..<300 {
            let target: VRN = n % 10 == 0 ? vrn(n * 7 % vehicles) : try VRN("QX\(n)")
            _ = try await store.addWatch(.vrn(target), note: "bench", by: officer, at: now)
        }
        _ = try await store.addWatch(.consignee(consignees[42]), note: "bench", by: officer, at: now)
    }

    func randomKeys(_ n: Int) -> [Key] {
        var rng = SystemRandomNumberGenerator()
        return (0..<n).map { _ in
            Key(
                vrn: vrn(Int.random(in: 0..<vehicles, using: &rng)),
                direction: Bool.random(using: &rng) ? .inbound : .outbound)
        }
    }
}
