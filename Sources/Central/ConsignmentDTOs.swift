import Foundation
import RoadCargo

// JSON shapes of a consignment. They mirror the domain types field for field
// but hold only strings, numbers and booleans, so that decoding never runs a
// domain parser whose error would lose its rule code; `domain(_:)` converts
// and collects every issue with its field path.

/// A party (Parts II and III).
public struct PartyBody: Codable, Sendable, Hashable {
    public var name: String
    public var countryCode: String
    public var addressLines: [String]
    public var subEntityName: String?
    public var subEntityCode: String?
    public var postcode: String?

    init(_ p: Party) {
        name = p.name
        countryCode = p.countryCode
        addressLines = p.addressLines
        subEntityName = p.subEntityName
        subEntityCode = p.subEntityCode
        postcode = p.postcode
    }

    func domain(_ f: inout FieldChecks, at path: String) -> Party {
        f.text("\(path).name", name, max: 70)
        if countryCode.utf8.count != 2 || !countryCode.utf8.allSatisfy({ (65...90).contains($0) }) {
            f.add(
                "\(path).countryCode", "party.country-code",
                "an ISO 3166-1 alpha-2 code in capitals, e.g. HK or CN; got \"\(countryCode)\"")
        }
        f.count("\(path).addressLines", addressLines.count, min: 1, max: 5)
        for (i, line) in addressLines.enumerated() { f.text("\(path).addressLines[\(i)]", line, max: 70) }
        f.text("\(path).subEntityName", subEntityName, max: 35)
        f.text("\(path).subEntityCode", subEntityCode, max: 9)
        f.text("\(path).postcode", postcode, max: 17)
        return Party(
            name: name, countryCode: countryCode, addressLines: addressLines, subEntityName: subEntityName,
            subEntityCode: subEntityCode, postcode: postcode)
    }
}

/// A quantity and its UN/ECE Rec. 20 unit.
public struct MeasureBody: Codable, Sendable, Hashable {
    public var value: Double
    public var unit: String

    init(_ m: Measure) {
        value = m.value
        unit = m.unit
    }

    static let maximum = 1e9

    func domain(_ f: inout FieldChecks, at path: String) -> Measure {
        if !(value > 0 && value <= Self.maximum) {
            f.add(
                "\(path).value", "number.range",
                "must be above 0 and at most \(Int(Self.maximum)); got \(value)")
        }
        if unit.utf8.count != 3 || !unit.utf8.allSatisfy({ (65...90).contains($0) || (48...57).contains($0) })
        {
            f.add(
                "\(path).unit", "measure.unit",
                "a UN/ECE Rec. 20 code of 3 capitals or digits, e.g. KGM; got \"\(unit)\"")
        }
        return Measure(value: value, unit: unit)
    }
}

public struct PackagingBody: Codable, Sendable, Hashable {
    public var count: Int
    public var kind: String

    init(_ p: Packaging) {
        count = p.count
        kind = p.kind
    }

    func domain(_ f: inout FieldChecks, at path: String) -> Packaging {
        f.range("\(path).count", count, 1...9_999_999)
        f.text("\(path).kind", kind, max: 35)
        return Packaging(count: count, kind: kind)
    }
}

public struct PermitBody: Codable, Sendable, Hashable {
    public var number: String
    public var issuingAuthority: String
    public var type: String

    init(_ p: Permit) {
        number = p.number
        issuingAuthority = p.issuingAuthority
        type = p.type
    }

    func domain(_ f: inout FieldChecks, at path: String) -> Permit {
        f.text("\(path).number", number, max: 35)
        f.text("\(path).issuingAuthority", issuingAuthority, max: 70)
        f.text("\(path).type", type, max: 35)
        return Permit(number: number, issuingAuthority: issuingAuthority, type: type)
    }
}

/// A goods item (Part IV).
public struct GoodsItemBody: Codable, Sendable, Hashable {
    public var description: String
    public var packaging: PackagingBody?
    public var grossWeight: MeasureBody?
    public var grossVolume: MeasureBody?
    public var netQuantity: MeasureBody?
    public var permits: [PermitBody]?

    init(_ g: GoodsItem) {
        description = g.description
        packaging = g.packaging.map(PackagingBody.init)
        grossWeight = g.grossWeight.map(MeasureBody.init)
        grossVolume = g.grossVolume.map(MeasureBody.init)
        netQuantity = g.netQuantity.map(MeasureBody.init)
        permits = g.permits.map(PermitBody.init)
    }

    func domain(_ f: inout FieldChecks, at path: String) -> GoodsItem {
        f.text("\(path).description", description, max: 512)
        // The form asks for gross weight or gross volume: exactly one.
        if (grossWeight == nil) == (grossVolume == nil) {
            f.add(
                "\(path).grossWeight", "goods.gross-measure",
                "give exactly one of grossWeight and grossVolume")
        }
        let permitList = permits ?? []
        f.count("\(path).permits", permitList.count, min: 0, max: 99)
        return GoodsItem(
            description: description, packaging: packaging?.domain(&f, at: "\(path).packaging"),
            grossWeight: grossWeight?.domain(&f, at: "\(path).grossWeight"),
            grossVolume: grossVolume?.domain(&f, at: "\(path).grossVolume"),
            netQuantity: netQuantity?.domain(&f, at: "\(path).netQuantity"),
            permits: permitList.enumerated().map { $1.domain(&f, at: "\(path).permits[\($0)]") })
    }
}

/// Transhipment details (Part V).
public struct TranshipmentBody: Codable, Sendable, Hashable {
    public var portOfLoading: String
    public var portOfDischarge: String
    public var conveyanceReference: String?

    init(_ t: Transhipment) {
        portOfLoading = t.portOfLoading
        portOfDischarge = t.portOfDischarge
        conveyanceReference = t.conveyanceReference
    }

    func domain(_ f: inout FieldChecks, at path: String) -> Transhipment {
        f.text("\(path).portOfLoading", portOfLoading, max: 35)
        f.text("\(path).portOfDischarge", portOfDischarge, max: 35)
        f.text("\(path).conveyanceReference", conveyanceReference, max: 35)
        return Transhipment(
            portOfLoading: portOfLoading, portOfDischarge: portOfDischarge,
            conveyanceReference: conveyanceReference)
    }
}

/// The acting-on-behalf section (agents only).
public struct ActingOnBehalfBody: Codable, Sendable, Hashable {
    public var agentRole: String
    public var shipperType: String
    public var shipperName: String
    public var hkid: String?
    public var businessRegistration: String?

    init(_ a: ActingOnBehalf) {
        agentRole = a.agentRole.rawValue
        shipperType = a.shipperType.rawValue
        shipperName = a.shipperName
        hkid = a.hkid
        businessRegistration = a.businessRegistration
    }

    func domain(_ f: inout FieldChecks, at path: String) -> ActingOnBehalf? {
        let role = ActingOnBehalf.AgentRole(rawValue: agentRole)
        if role == nil {
            f.add(
                "\(path).agentRole", "enum",
                "must be one of \(ActingOnBehalf.AgentRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let type = ActingOnBehalf.ShipperType(rawValue: shipperType)
        if type == nil { f.add("\(path).shipperType", "enum", "must be company or individual") }
        f.text("\(path).shipperName", shipperName, max: 70)
        f.text("\(path).hkid", hkid, max: 12)
        f.text("\(path).businessRegistration", businessRegistration, max: 16)
        guard let role, let type else { return nil }
        return ActingOnBehalf(
            agentRole: role, shipperType: type, shipperName: shipperName, hkid: hkid,
            businessRegistration: businessRegistration)
    }
}

/// The single-submission form, Parts I to VI, as submitted and as returned.
public struct SubmissionBody: Codable, Sendable, Hashable {
    public var direction: String
    /// `YYYY-MM-DD`, Hong Kong day.
    public var expectedDate: String
    public var consignor: PartyBody
    public var consignee: PartyBody
    public var goodsItems: [GoodsItemBody]
    public var transhipment: TranshipmentBody?
    public var expectedControlPoint: String?
    public var sealNumber: String?
    public var containerNumber: String?
    public var ucr: String?
    public var equipmentSizeAndType: String?
    public var senderReference: String?
    public var actingOnBehalf: ActingOnBehalfBody?

    public init(_ s: ConsignmentSubmission) {
        direction = s.direction.rawValue
        expectedDate = s.expectedDate.description
        consignor = PartyBody(s.consignor)
        consignee = PartyBody(s.consignee)
        goodsItems = s.goodsItems.map(GoodsItemBody.init)
        transhipment = s.transhipment.map(TranshipmentBody.init)
        expectedControlPoint = s.expectedControlPoint?.rawValue
        sealNumber = s.sealNumber
        containerNumber = s.containerNumber
        ucr = s.ucr
        equipmentSizeAndType = s.equipmentSizeAndType
        senderReference = s.senderReference
        actingOnBehalf = s.actingOnBehalf.map(ActingOnBehalfBody.init)
    }

    /// Converts to the domain value, reporting every field issue at once.
    public func domain() throws(ValidationFailure) -> ConsignmentSubmission {
        var f = FieldChecks()
        let dir = f.parse("direction") { () throws(ValidationFailure) in try APIParse.direction(direction) }
        let day = f.parse("expectedDate") { () throws(ValidationFailure) in try APIParse.day(expectedDate) }
        let cp = expectedControlPoint.flatMap { raw in
            f.parse("expectedControlPoint") { () throws(ValidationFailure) in try APIParse.controlPoint(raw) }
        }
        let from = consignor.domain(&f, at: "consignor")
        let to = consignee.domain(&f, at: "consignee")
        f.count("goodsItems", goodsItems.count, min: 1, max: 999)
        let goods = goodsItems.enumerated().map { $1.domain(&f, at: "goodsItems[\($0)]") }
        let tranship = transhipment?.domain(&f, at: "transhipment")
        for (name, value) in [
            ("sealNumber", sealNumber), ("containerNumber", containerNumber), ("ucr", ucr),
            ("equipmentSizeAndType", equipmentSizeAndType), ("senderReference", senderReference),
        ] {
            f.text(name, value, max: 35)
        }
        let onBehalf = actingOnBehalf?.domain(&f, at: "actingOnBehalf")
        try f.throwIfAny()
        guard let dir, let day else {
            throw ValidationFailure(field: "", rule: "invalid", detail: "unreadable")
        }
        return ConsignmentSubmission(
            direction: dir, expectedDate: day, consignor: from, consignee: to, goodsItems: goods,
            transhipment: tranship, expectedControlPoint: cp, sealNumber: sealNumber,
            containerNumber: containerNumber, ucr: ucr, equipmentSizeAndType: equipmentSizeAndType,
            senderReference: senderReference, actingOnBehalf: onBehalf)
    }
}

/// A stored consignment as the API returns it.
public struct ConsignmentBody: Codable, Sendable, Hashable {
    public var ccrn: String
    /// The last Hong Kong day on which the CCRN is valid.
    public var validUntil: String
    public var status: String
    public var submittedBy: String
    public var submittedAt: String
    public var amendedAt: String?
    public var bundledIn: String?
    public var submission: SubmissionBody

    public init(_ c: Consignment) {
        ccrn = c.ccrn.value
        validUntil = c.validUntil.description
        status = c.status.rawValue
        submittedBy = c.submittedBy
        submittedAt = HongKongTime.iso8601(c.submittedAt)
        amendedAt = c.amendedAt.map(HongKongTime.iso8601)
        bundledIn = c.bundledIn?.value
        submission = SubmissionBody(c.submission)
    }
}
