import ClearanceCore
import Foundation
import GRDB
import RoadCargo
import Testing

@testable import CargoStore

/// Shared values: the briefing's example bundle was completed at
/// 2009-10-24 22:56:44 Hong Kong time.
enum Fixture {
    static let t0 = try! HongKongTime.parse("2009-10-24T22:56:44+08:00")
    static let today = CalendarDay(containing: t0)

    static let shipper = Account(name: "winning-co", role: .shipper)
    static let otherShipper = Account(name: "other-co", role: .shipper)
    static let agent = Account(name: "forwarder-ltd", role: .agent)
    static let driver = Account(name: "driver-ho", role: .driver)
    static let otherDriver = Account(name: "driver-lee", role: .driver)
    static let officer = Account(name: "officer-chan", role: .officer, controlPoint: .lokMaChau)

    static let vrn = try! VRN("VRN0912")
    static let inboundLane = Lane(id: try! LaneID("LMC-IN-03"), controlPoint: .lokMaChau, direction: .inbound)
    static let outboundLane = Lane(
        id: try! LaneID("LMC-OUT-01"), controlPoint: .lokMaChau, direction: .outbound)

    static let policy = DecisionPolicy(
        phase: .full,
        selection: SelectionSettings(key: Data(repeating: 7, count: 32), ladenRate: 0, unladenRate: 0))

    static func submission(
        _ direction: Direction = .inbound, expected: CalendarDay = today.advanced(by: 1),
        consignee: String = "Wilson Development Ltd"
    ) -> ConsignmentSubmission {
        ConsignmentSubmission(
            direction: direction, expectedDate: expected,
            consignor: Party(
                name: "Shenzhen Winning Co", countryCode: "CN", addressLines: ["1 Shennan Road"]),
            consignee: Party(name: consignee, countryCode: "HK", addressLines: ["2 Castle Peak Road"]),
            goodsItems: [
                GoodsItem(
                    description: "Plastic toys", packaging: Packaging(count: 10, kind: "CT"),
                    grossWeight: Measure(value: 550, unit: "KGM")),
                GoodsItem(
                    description: "Steel rods", grossWeight: Measure(value: 2.5, unit: "TNE"),
                    permits: [Permit(number: "P-1", issuingAuthority: "TID", type: "import licence")]),
            ])
    }

    static func bundleRequest(_ ccrns: [CCRN], vrn: VRN = vrn, direction: Direction = .inbound)
        -> BundleRequest
    {
        BundleRequest(driverName: "Ho Ka Chun", vrn: vrn, direction: direction, ccrns: ccrns)
    }

    static func request(
        lane: Lane = inboundLane, vrn: VRN = vrn, at date: Date, unladen: Bool = false
    ) -> DecisionRequest {
        DecisionRequest(lane: lane, vrn: vrn, arrivedAt: date, unladenPressed: unladen)
    }
}

/// A fresh directory under the system's temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "cargostore-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
