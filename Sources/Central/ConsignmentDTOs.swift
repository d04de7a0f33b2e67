import Foundation
import RoadCargo

// JSON shapes of a consignment. They mirror the domain types field for field
// but hold only strings, numbers and booleans, so that decoding never runs a
// domain parser whose error would lose its rule code; `domain(_:)` converts
// enumerations and dates, collecting every issue with its field path. The
// content rules (lengths, codes, check digits) are ClearanceCore's
// `ConsignmentValidation`, applied by the store for JSON and batch XML alike.

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

    func domain(_ f: inout FieldChecks, at path: String) -> Measure {
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
        let permitList = permits ?? []
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
        let goods = goodsItems.enumerated().map { $1.domain(&f, at: "goodsItems[\($0)]") }
        let tranship = transhipment?.domain(&f, at: "transhipment")
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
