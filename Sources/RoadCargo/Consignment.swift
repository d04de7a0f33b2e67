import Foundation

/// A party to a consignment (Parts II and III of the briefing's form).
public struct Party: Sendable, Hashable, Codable {
    public var name: String
    /// ISO 3166-1 alpha-2 country or territory code, e.g. `HK`, `CN`.
    public var countryCode: String
    /// One to five address lines: street and number, estate, town or
    /// district, city.
    public var addressLines: [String]
    public var subEntityName: String?
    public var subEntityCode: String?
    public var postcode: String?

    public init(
        name: String, countryCode: String, addressLines: [String], subEntityName: String? = nil,
        subEntityCode: String? = nil, postcode: String? = nil
    ) {
        self.name = name
        self.countryCode = countryCode
        self.addressLines = addressLines
        self.subEntityName = subEntityName
        self.subEntityCode = subEntityCode
        self.postcode = postcode
    }
}

/// A measured quantity with its unit, e.g. 550 KGM.
public struct Measure: Sendable, Hashable, Codable {
    public var value: Double
    /// UN/ECE Recommendation 20 unit code: `KGM`, `TNE`, `MTQ`, `LTR`, `PCE`...
    public var unit: String

    public init(value: Double, unit: String) {
        self.value = value
        self.unit = unit
    }
}

/// Cargo in packages: how many and of what kind (UN/ECE Rec. 21 code or text).
public struct Packaging: Sendable, Hashable, Codable {
    public var count: Int
    public var kind: String

    public init(count: Int, kind: String) {
        self.count = count
        self.kind = kind
    }
}

/// A permit or licence covering a goods item.
public struct Permit: Sendable, Hashable, Codable {
    public var number: String
    public var issuingAuthority: String
    public var type: String

    public init(number: String, issuingAuthority: String, type: String) {
        self.number = number
        self.issuingAuthority = issuingAuthority
        self.type = type
    }
}

/// One goods item (Part IV): in packages or in bulk, never both.
public struct GoodsItem: Sendable, Hashable, Codable {
    public var description: String
    /// Set for cargo in packages; nil for cargo in bulk.
    public var packaging: Packaging?
    /// Exactly one of gross weight and gross volume is given.
    public var grossWeight: Measure?
    public var grossVolume: Measure?
    public var netQuantity: Measure?
    public var permits: [Permit]

    public init(
        description: String, packaging: Packaging? = nil, grossWeight: Measure? = nil,
        grossVolume: Measure? = nil, netQuantity: Measure? = nil, permits: [Permit] = []
    ) {
        self.description = description
        self.packaging = packaging
        self.grossWeight = grossWeight
        self.grossVolume = grossVolume
        self.netQuantity = netQuantity
        self.permits = permits
    }

    public var isBulk: Bool { packaging == nil }
}

/// Transhipment details (Part V): the cargo passes through Hong Kong.
public struct Transhipment: Sendable, Hashable, Codable {
    /// Where the cargo was loaded for its through journey (UN/LOCODE or text).
    public var portOfLoading: String
    /// Where it is finally discharged.
    public var portOfDischarge: String
    /// The conveyance (vessel, flight, vehicle) carrying it onwards or inwards.
    public var conveyanceReference: String?

    public init(portOfLoading: String, portOfDischarge: String, conveyanceReference: String? = nil) {
        self.portOfLoading = portOfLoading
        self.portOfDischarge = portOfDischarge
        self.conveyanceReference = conveyanceReference
    }
}

/// The acting-on-behalf section, mandatory when an agent submits.
public struct ActingOnBehalf: Sendable, Hashable, Codable {
    public enum AgentRole: String, Sendable, Hashable, Codable, CaseIterable {
        case dataEntry = "data-entry"
        case freightForwarder = "freight-forwarder"
        case customsBroker = "customs-broker"
    }

    public enum ShipperType: String, Sendable, Hashable, Codable, CaseIterable {
        case company, individual
    }

    public var agentRole: AgentRole
    public var shipperType: ShipperType
    /// The shipper's name (company or person) the agent acts for.
    public var shipperName: String
    /// Hong Kong identity card number, for an individual shipper.
    public var hkid: String?
    /// Business registration number, for a company shipper.
    public var businessRegistration: String?

    public init(
        agentRole: AgentRole, shipperType: ShipperType, shipperName: String, hkid: String? = nil,
        businessRegistration: String? = nil
    ) {
        self.agentRole = agentRole
        self.shipperType = shipperType
        self.shipperName = shipperName
        self.hkid = hkid
        self.businessRegistration = businessRegistration
    }
}

/// What a shipper or agent submits: every part of the single-submission
/// form (Parts I to VI) plus the acting-on-behalf section.
public struct ConsignmentSubmission: Sendable, Hashable, Codable {
    // Part I
    public var direction: Direction
    /// The expected arrival (import) or departure (export) day, Hong Kong time.
    public var expectedDate: CalendarDay
    // Parts II and III
    public var consignor: Party
    public var consignee: Party
    // Part IV
    public var goodsItems: [GoodsItem]
    // Part V
    public var transhipment: Transhipment?
    // Part VI
    public var expectedControlPoint: ControlPoint?
    public var sealNumber: String?
    public var containerNumber: String?
    public var ucr: String?
    public var equipmentSizeAndType: String?
    public var senderReference: String?
    // Agents only
    public var actingOnBehalf: ActingOnBehalf?

    public init(
        direction: Direction, expectedDate: CalendarDay, consignor: Party, consignee: Party,
        goodsItems: [GoodsItem], transhipment: Transhipment? = nil, expectedControlPoint: ControlPoint? = nil,
        sealNumber: String? = nil, containerNumber: String? = nil, ucr: String? = nil,
        equipmentSizeAndType: String? = nil, senderReference: String? = nil,
        actingOnBehalf: ActingOnBehalf? = nil
    ) {
        self.direction = direction
        self.expectedDate = expectedDate
        self.consignor = consignor
        self.consignee = consignee
        self.goodsItems = goodsItems
        self.transhipment = transhipment
        self.expectedControlPoint = expectedControlPoint
        self.sealNumber = sealNumber
        self.containerNumber = containerNumber
        self.ucr = ucr
        self.equipmentSizeAndType = equipmentSizeAndType
        self.senderReference = senderReference
        self.actingOnBehalf = actingOnBehalf
    }
}

/// Where a consignment stands.
public enum ConsignmentStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Accepted; may be amended, withdrawn or bundled.
    case active
    /// In an active bundle: frozen until debundled.
    case bundled
    /// Withdrawn by its submitter; its CCRN is never reused.
    case withdrawn
    /// Crossed the boundary on a used bundle; can never be bundled again.
    case spent
}

/// An accepted consignment as central keeps it.
public struct Consignment: Sendable, Hashable, Codable {
    public var ccrn: CCRN
    public var submission: ConsignmentSubmission
    /// The account that submitted it (shipper or agent).
    public var submittedBy: String
    public var submittedAt: Date
    public var amendedAt: Date?
    /// The last Hong Kong day on which the CCRN is valid (rule 3).
    public var validUntil: CalendarDay
    public var status: ConsignmentStatus
    /// The active or used bundle holding it, if any.
    public var bundledIn: UBR?

    public init(
        ccrn: CCRN, submission: ConsignmentSubmission, submittedBy: String, submittedAt: Date,
        amendedAt: Date? = nil, validUntil: CalendarDay, status: ConsignmentStatus = .active,
        bundledIn: UBR? = nil
    ) {
        self.ccrn = ccrn
        self.submission = submission
        self.submittedBy = submittedBy
        self.submittedAt = submittedAt
        self.amendedAt = amendedAt
        self.validUntil = validUntil
        self.status = status
        self.bundledIn = bundledIn
    }

    /// Valid at every instant before the end of `validUntil`, Hong Kong time.
    public func isValid(at t: Date) -> Bool { t < validUntil.end }
}
