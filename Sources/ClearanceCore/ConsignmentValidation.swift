import RoadCargo

/// One field-level rule of ``ConsignmentValidation``, as `docs/rules.md` lists it.
public struct ConsignmentRule: Sendable, Hashable {
    /// The stable code carried by ``ValidationIssue/rule``.
    public let code: String
    /// The fields it applies to, as paths (`consignor.name`, `goodsItems[i].description`).
    public let fields: String
    /// What the rule asks for, in a sentence.
    public let meaning: String

    public init(code: String, fields: String, meaning: String) {
        self.code = code
        self.fields = fields
        self.meaning = meaning
    }
}

/// Field-level checks of a submission (Parts I to VI and the acting-on-behalf
/// section), independent of time and of what is stored.
///
/// Every issue is reported, not only the first, so that a shipper corrects a
/// form in one round. Field paths follow the JSON document (`consignee.addressLines[1]`,
/// `goodsItems[2].grossWeight.unit`) with indexes counted from 0. Validation
/// never rewrites a value: what is accepted is stored exactly as submitted, so
/// codes that other systems compare (country, units, HKID) must already be in
/// their canonical upper-case form.
public enum ConsignmentValidation {
    /// Goods items per consignment (the briefing's form numbers them 1 to 999).
    public static let maximumGoodsItems = 999
    /// Address lines per party: street and number, estate, town or district,
    /// city, and one spare.
    public static let maximumAddressLines = 5
    /// Packages per goods item; eight digits, as the UN/EDIFACT `n..8` field.
    public static let maximumPackageCount = 99_999_999

    /// Gross weight units (UN/ECE Recommendation 20): kilogram, tonne, gram, pound.
    public static let grossWeightUnits: Set<String> = ["KGM", "TNE", "GRM", "LBR"]
    /// Gross volume units (UN/ECE Recommendation 20): cubic metre, litre.
    public static let grossVolumeUnits: Set<String> = ["MTQ", "LTR"]
    /// Net quantity units commonly used in trade declarations (UN/ECE
    /// Recommendation 20). Any other code of one to three upper-case letters is
    /// accepted too, because Rec. 20 has over a thousand codes and refusing a
    /// rare but real one would stop a shipment; codes with digits (`C62`, `H87`)
    /// are accepted only from this list.
    public static let knownQuantityUnits: Set<String> = [
        "KGM", "TNE", "GRM", "MGM", "LBR", "ONZ", "MTQ", "LTR", "MLT", "CMQ", "MTR", "MTK", "CMT", "KTM",
        "PCE", "NAR", "NPR", "SET", "PR", "DZN", "GRO", "C62", "H87", "KWH", "CT", "BX", "EA", "CTM",
        "KNI", "KPO", "KSD", "TPR", "GFI", "GT",
    ]

    // MARK: Limits of text fields (characters, as a person counts them)

    public static let maximumNameLength = 70
    public static let maximumAddressLineLength = 35
    public static let maximumDescriptionLength = 280
    /// Short free-text and reference fields: package kind, ports, permit
    /// number and type, seal, UCR, equipment, sender's reference (UN/EDIFACT `an..35`).
    public static let maximumShortTextLength = 35
    /// Sub-entity codes and postcodes (UN/EDIFACT `an..9`).
    public static let maximumCodeLength = 9

    public static func issues(in s: ConsignmentSubmission) -> [ValidationIssue] {
        var v = Validator()
        v.party(s.consignor, at: "consignor")
        v.party(s.consignee, at: "consignee")

        if s.goodsItems.isEmpty {
            v.add("goodsItems", "goods.empty", "at least one goods item is required")
        } else if s.goodsItems.count > maximumGoodsItems {
            v.add(
                "goodsItems", "goods.too-many",
                "a consignment has at most \(maximumGoodsItems) goods items; this one has \(s.goodsItems.count)"
            )
        }
        for (i, item) in s.goodsItems.enumerated() { v.goodsItem(item, at: "goodsItems[\(i)]") }

        if let t = s.transhipment {
            v.text(
                t.portOfLoading, at: "transhipment.portOfLoading", code: "transhipment.port-of-loading",
                what: "the port of loading", max: maximumShortTextLength)
            v.text(
                t.portOfDischarge, at: "transhipment.portOfDischarge", code: "transhipment.port-of-discharge",
                what: "the port of discharge", max: maximumShortTextLength)
            v.optionalText(
                t.conveyanceReference, at: "transhipment.conveyanceReference",
                code: "transhipment.conveyance",
                what: "the conveyance reference", max: maximumShortTextLength)
        }

        v.optionalText(
            s.sealNumber, at: "sealNumber", code: "other.seal-number", what: "the seal number",
            max: maximumShortTextLength, ascii: true)
        if let container = s.containerNumber { v.container(container) }
        v.optionalText(
            s.ucr, at: "ucr", code: "other.ucr", what: "the UCR", max: maximumShortTextLength, ascii: true)
        v.optionalText(
            s.equipmentSizeAndType, at: "equipmentSizeAndType", code: "other.equipment",
            what: "the equipment size and type", max: maximumShortTextLength, ascii: true)
        v.optionalText(
            s.senderReference, at: "senderReference", code: "other.sender-reference",
            what: "the message sender's reference", max: maximumShortTextLength, ascii: true)

        if let a = s.actingOnBehalf { v.actingOnBehalf(a) }
        return v.c.issues
    }
}

/// The checks, kept apart from the rule table so that the table reads as a list.
private struct Validator {
    var c = IssueCollector()

    mutating func add(_ field: String, _ rule: String, _ detail: String) { c.add(field, rule, detail) }

    /// A required text: `code` when blank, `code-length` when too long, and a
    /// character-set rule. A blank text is not also reported as too long.
    mutating func text(
        _ value: String, at field: String, code: String, what: String, max: Int, ascii: Bool = false
    ) {
        guard !isBlank(value) else {
            add(field, code, "\(what) is required")
            return
        }
        limits(value, at: field, code: code, what: what, max: max, ascii: ascii)
    }

    /// An optional text: absent is fine, but given and blank is refused, so
    /// that "no seal" is always spelled one way (absent) in what is stored.
    mutating func optionalText(
        _ value: String?, at field: String, code: String, what: String, max: Int, ascii: Bool = false
    ) {
        guard let value else { return }
        guard !isBlank(value) else {
            add(field, code, "\(what), when given, is not blank; leave it out instead")
            return
        }
        limits(value, at: field, code: code, what: what, max: max, ascii: ascii)
    }

    private mutating func limits(
        _ value: String, at field: String, code: String, what: String, max: Int, ascii: Bool
    ) {
        let limit = TextLimit(characters: max)
        if !limit.allows(value) {
            add(field, "\(code)-length", "\(what) has \(limit); this one \(limit.measured(value))")
        }
        if ascii {
            if !value.unicodeScalars.allSatisfy({ (0x20...0x7E).contains($0.value) }) {
                add(
                    field, "text.printable-ascii",
                    "\(what) holds only printable ASCII characters (letters, digits, spaces and punctuation)")
            }
        } else if value.unicodeScalars.contains(where: isControl) {
            add(
                field, "text.control-characters", "\(what) must not contain control characters or line breaks"
            )
        }
    }

    private func isBlank(_ s: String) -> Bool { s.allSatisfy(\.isWhitespace) }

    /// Control characters, line and paragraph separators: they would break the
    /// one-line rendering of a form field, a display line or a journal entry.
    private func isControl(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator, .surrogate: true
        default: false
        }
    }

    mutating func party(_ p: Party, at path: String) {
        text(
            p.name, at: "\(path).name", code: "party.name", what: "the name",
            max: ConsignmentValidation.maximumNameLength)
        let cc = p.countryCode.unicodeScalars
        if !(cc.count == 2 && cc.allSatisfy({ ("A"..."Z").contains($0) })) {
            let hint =
                cc.count == 2 && cc.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) })
                ? "; write it in upper case, \"\(p.countryCode.uppercased())\"" : ""
            add(
                "\(path).countryCode", "party.country-code",
                "the country or territory code is an ISO 3166 alpha-2 code, two upper-case letters such as HK or CN; got \"\(p.countryCode)\"\(hint)"
            )
        }
        let maxLines = ConsignmentValidation.maximumAddressLines
        if p.addressLines.isEmpty || p.addressLines.count > maxLines {
            add(
                "\(path).addressLines", "party.address-lines",
                "an address has 1 to \(maxLines) lines; this one has \(p.addressLines.count)")
        }
        for (i, line) in p.addressLines.enumerated() {
            text(
                line, at: "\(path).addressLines[\(i)]", code: "party.address-line", what: "an address line",
                max: ConsignmentValidation.maximumAddressLineLength)
        }
        optionalText(
            p.subEntityName, at: "\(path).subEntityName", code: "party.sub-entity-name",
            what: "the sub-entity name", max: ConsignmentValidation.maximumShortTextLength)
        optionalText(
            p.subEntityCode, at: "\(path).subEntityCode", code: "party.sub-entity-code",
            what: "the sub-entity code", max: ConsignmentValidation.maximumCodeLength, ascii: true)
        optionalText(
            p.postcode, at: "\(path).postcode", code: "party.postcode", what: "the postcode",
            max: ConsignmentValidation.maximumCodeLength, ascii: true)
    }

    mutating func goodsItem(_ g: GoodsItem, at path: String) {
        text(
            g.description, at: "\(path).description", code: "goods.description",
            what: "the description of articles", max: ConsignmentValidation.maximumDescriptionLength)
        if let p = g.packaging {
            let maxCount = ConsignmentValidation.maximumPackageCount
            if !(1...maxCount).contains(p.count) {
                add(
                    "\(path).packaging.count", "goods.package-count",
                    "cargo in packages has 1 to \(maxCount) packages; got \(p.count) (cargo without packages is in bulk: leave packaging out)"
                )
            }
            text(
                p.kind, at: "\(path).packaging.kind", code: "goods.package-kind", what: "the kind of package",
                max: ConsignmentValidation.maximumShortTextLength)
        }
        switch (g.grossWeight, g.grossVolume) {
        case (nil, nil):
            add(path, "goods.gross-measure", "give the gross weight or the gross volume")
        case (.some, .some):
            add(path, "goods.gross-measure", "give the gross weight or the gross volume, not both")
        default: break
        }
        if let w = g.grossWeight {
            measure(
                w, at: "\(path).grossWeight", what: "gross weight", unitRule: "goods.gross-weight-unit",
                allowed: ConsignmentValidation.grossWeightUnits)
        }
        if let v = g.grossVolume {
            measure(
                v, at: "\(path).grossVolume", what: "gross volume", unitRule: "goods.gross-volume-unit",
                allowed: ConsignmentValidation.grossVolumeUnits)
        }
        if let n = g.netQuantity {
            value(n, at: "\(path).netQuantity", what: "net quantity")
            let u = n.unit.unicodeScalars
            let lettersOnly = (1...3).contains(u.count) && u.allSatisfy { ("A"..."Z").contains($0) }
            if !(lettersOnly || ConsignmentValidation.knownQuantityUnits.contains(n.unit)) {
                add(
                    "\(path).netQuantity.unit", "goods.net-unit",
                    "the net quantity unit is a UN/ECE Rec. 20 code such as KGM, PCE or C62; got \"\(n.unit)\""
                )
            }
        }
        for (j, permit) in g.permits.enumerated() {
            let p = "\(path).permits[\(j)]"
            text(
                permit.number, at: "\(p).number", code: "permit.number", what: "the permit number",
                max: ConsignmentValidation.maximumShortTextLength, ascii: true)
            text(
                permit.issuingAuthority, at: "\(p).issuingAuthority", code: "permit.issuing-authority",
                what: "the issuing authority", max: ConsignmentValidation.maximumNameLength)
            text(
                permit.type, at: "\(p).type", code: "permit.type", what: "the permit type",
                max: ConsignmentValidation.maximumShortTextLength)
        }
    }

    private mutating func measure(
        _ m: Measure, at path: String, what: String, unitRule: String, allowed: Set<String>
    ) {
        value(m, at: path, what: what)
        if !allowed.contains(m.unit) {
            add(
                "\(path).unit", unitRule,
                "the \(what) unit is one of \(allowed.sorted().joined(separator: ", ")); got \"\(m.unit)\"")
        }
    }

    private mutating func value(_ m: Measure, at path: String, what: String) {
        if !(m.value.isFinite && m.value > 0) {
            add("\(path).value", "goods.measure-value", "the \(what) is a positive number; got \(m.value)")
        }
    }

    mutating func container(_ number: String) {
        let u = number.unicodeScalars
        let shaped =
            u.count == 11 && u.prefix(4).allSatisfy { ("A"..."Z").contains($0) }
            && u.suffix(7).allSatisfy { ("0"..."9").contains($0) }
        guard shaped else {
            add(
                "containerNumber", "other.container-number",
                "a container number is four upper-case letters and seven digits without spaces, e.g. CSQU3054383; got \"\(number)\""
            )
            return
        }
        if !ISO6346.isValid(number) {
            let body = String(number.prefix(10))
            let expected = ISO6346.checkDigit(for: body).map(String.init) ?? "?"
            add(
                "containerNumber", "other.container-check-digit",
                "container number \(number) fails its ISO 6346 check digit (\(body) needs \(expected)); a character is probably mistyped"
            )
        }
    }

    mutating func actingOnBehalf(_ a: ActingOnBehalf) {
        text(
            a.shipperName, at: "actingOnBehalf.shipperName", code: "on-behalf.shipper-name",
            what: "the shipper's name", max: ConsignmentValidation.maximumNameLength)
        switch (a.shipperType, a.hkid) {
        case (.individual, nil):
            add(
                "actingOnBehalf.hkid", "on-behalf.hkid-required",
                "an individual shipper is identified by an HKID number, e.g. A123456(3)")
        case (.company, .some):
            add(
                "actingOnBehalf.hkid", "on-behalf.hkid-company",
                "a company shipper gives no HKID number; leave it out (a business registration number may be given)"
            )
        case (.individual, .some(let hkid)):
            if !HKIDCheck.isWellFormed(hkid) {
                add(
                    "actingOnBehalf.hkid", "on-behalf.hkid",
                    "an HKID number is one or two upper-case letters, six digits and a check character, e.g. A123456(3); got \"\(hkid)\""
                )
            } else if !HKIDCheck.isValid(hkid) {
                add(
                    "actingOnBehalf.hkid", "on-behalf.hkid-check-digit",
                    "HKID number \(hkid) fails its check character; a character is probably mistyped")
            }
        case (.company, nil):
            break
        }
        if let br = a.businessRegistration {
            let u = Array(br.unicodeScalars)
            let digits = { (s: ArraySlice<Unicode.Scalar>) in s.allSatisfy { ("0"..."9").contains($0) } }
            let ok =
                (u.count == 8 && digits(u[...]))
                || (u.count == 12 && digits(u[0..<8]) && u[8] == "-" && digits(u[9...]))
            if !ok {
                add(
                    "actingOnBehalf.businessRegistration", "on-behalf.business-registration",
                    "a business registration number is 8 digits, optionally followed by - and a 3-digit branch number, e.g. 12345678-001; got \"\(br)\""
                )
            }
        }
    }
}
