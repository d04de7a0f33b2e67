import Foundation
import RoadCargo
import Testing

/// A value inside a JSON object, as the API carries it.
private struct Box<T: Decodable>: Decodable { var v: T }

@Suite("Codable value types")
struct CodableTests {
    func roundTrip<T: Codable & Equatable>(_ value: T) throws -> T {
        let data = try JSONEncoder().encode(value)
        return try JSONDecoder().decode(T.self, from: data)
    }

    func json<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    @Test("simple values encode as the strings people read")
    func simpleValues() throws {
        #expect(try json([VRN("vrn 0912")]) == #"["VRN0912"]"#)
        #expect(try json([CCRN("2001067889")]) == #"["2001067889"]"#)
        #expect(try json([UBR(payload: 100_101_416)]) == #"["1001014164"]"#)
        #expect(try json([CalendarDay("2009-11-16")]) == #"["2009-11-16"]"#)
        #expect(try json([Direction.inbound, .outbound]) == #"["import","export"]"#)
        #expect(try json([ControlPoint.lokMaChau]) == #"["LMC"]"#)
        #expect(try json([LaneID("LMC-IN-03")]) == #"["LMC-IN-03"]"#)
    }

    @Test("simple values round trip")
    func simpleRoundTrips() throws {
        let vrn = try VRN("FV 8888")
        #expect(try roundTrip(vrn) == vrn)
        let ccrn = CCRN(payload: 200_106_788)
        #expect(try roundTrip(ccrn) == ccrn)
        let ubr = UBR(payload: 123_456_789)
        #expect(try roundTrip(ubr) == ubr)
        let day = try CalendarDay("2024-02-29")
        #expect(try roundTrip(day) == day)
        for d in Direction.allCases { #expect(try roundTrip(d) == d) }
        for cp in ControlPoint.allCases { #expect(try roundTrip(cp) == cp) }
        let lane = Lane(id: try LaneID("LMC-IN-03"), controlPoint: .lokMaChau, direction: .inbound)
        #expect(try roundTrip(lane) == lane)
        let account = Account(name: "officer-chan", role: .officer, controlPoint: .manKamTo)
        #expect(try roundTrip(account) == account)
        for target in [WatchTarget.vrn(vrn), .ccrn(ccrn), .consignee("WILSON DEVELOPMENT LTD")] {
            #expect(try roundTrip(target) == target)
        }
    }

    @Test("decoding applies the same checks as parsing")
    func decodingRefuses() {
        func refused<T: Decodable>(_ type: T.Type, _ raw: String) -> Bool {
            let data = Data("{\"v\":\"\(raw)\"}".utf8)
            return (try? JSONDecoder().decode(Box<T>.self, from: data)) == nil
        }
        #expect(refused(VRN.self, "AB-1234"))
        #expect(refused(VRN.self, "ABCDE12345"))
        #expect(refused(CCRN.self, "2001067888"))
        #expect(refused(UBR.self, "1001014161"))
        #expect(refused(CalendarDay.self, "2009-02-29"))
        #expect(refused(Direction.self, "sideways"))
        #expect(refused(ControlPoint.self, "XYZ"))
        #expect(refused(LaneID.self, "lane 1"))
    }

    @Test("decoding normalises a VRN as parsing does")
    func decodingNormalises() throws {
        #expect(
            try JSONDecoder().decode(Box<VRN>.self, from: Data(#"{"v":" vrn 0912"}"#.utf8)).v.value
                == "VRN0912")
    }

    @Test("composite records round trip with every optional part filled")
    func composites() throws {
        let at = Date(timeIntervalSince1970: 1_256_396_204)
        let party = Party(
            name: "Winning Co. Ltd.", countryCode: "HK", addressLines: ["Flat D, 22/F", "333 Nathan Road"],
            subEntityName: "Kowloon", subEntityCode: "KLN", postcode: "000")
        let submission = ConsignmentSubmission(
            direction: .outbound, expectedDate: try CalendarDay("2009-11-07"), consignor: party,
            consignee: party,
            goodsItems: [
                GoodsItem(
                    description: "Copper Button", packaging: Packaging(count: 3, kind: "CT"),
                    grossWeight: Measure(value: 550, unit: "KGM"),
                    netQuantity: Measure(value: 500, unit: "KGM"),
                    permits: [Permit(number: "P1", issuingAuthority: "TID", type: "export licence")])
            ],
            transhipment: Transhipment(
                portOfLoading: "CNSZX", portOfDischarge: "HKHKG", conveyanceReference: "V1"),
            expectedControlPoint: .lokMaChau, sealNumber: "38448", containerNumber: "HJLS2345217", ucr: "U",
            equipmentSizeAndType: "Others", senderReference: "20091231-001",
            actingOnBehalf: ActingOnBehalf(
                agentRole: .customsBroker, shipperType: .individual, shipperName: "CHAN Tai Man",
                hkid: "A123456(3)", businessRegistration: nil))
        #expect(try roundTrip(submission) == submission)
        let consignment = Consignment(
            ccrn: CCRN(payload: 200_106_788), submission: submission, submittedBy: "agent-1", submittedAt: at,
            amendedAt: at.addingTimeInterval(60), validUntil: try CalendarDay("2009-11-07"), status: .bundled,
            bundledIn: UBR(payload: 100_101_416))
        #expect(try roundTrip(consignment) == consignment)
        let bundle = CargoBundle(
            ubr: UBR(payload: 100_101_416), driverName: "Ho Wa Ping", driverAccount: "driver-ho",
            vrn: try VRN("VRN0912"), direction: .inbound, expectedControlPoint: .lokMaChau,
            ccrns: [consignment.ccrn], completedAt: at, earliestCrossing: at.addingTimeInterval(1800),
            status: .used, endedAt: at.addingTimeInterval(2000))
        #expect(try roundTrip(bundle) == bundle)
        let decision = Decision(
            instruction: .inspect, reason: .earlyCrossing, notes: [.controlPointChanged], ubr: bundle.ubr,
            earliestCrossing: bundle.earliestCrossing, ccrns: [consignment.ccrn])
        #expect(try roundTrip(decision) == decision)
        let request = DecisionRequest(
            lane: Lane(id: try LaneID("MKT-OUT-1"), controlPoint: .manKamTo, direction: .outbound),
            vrn: bundle.vrn, arrivedAt: at, unladenPressed: true)
        #expect(try roundTrip(request) == request)
    }

    @Test("instructions and reasons use the rule book's spelling")
    func spelling() {
        #expect(
            Instruction.allCases.map(\.rawValue) == [
                "WELCOME", "STOP", "DROP_MANIFEST", "CLEARED", "INSPECT", "CLOSED",
            ])
        #expect(Reason.bundleOK.rawValue == "BUNDLE_OK")
        #expect(Reason.unladenConflict.rawValue == "UNLADEN_CONFLICT")
        #expect(DecisionNote.controlPointChanged.rawValue == "CONTROL_POINT_CHANGED")
    }
}
