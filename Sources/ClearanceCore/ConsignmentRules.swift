import RoadCargo

extension ConsignmentValidation {
    /// Every rule code this validation can report, with its meaning.
    public static let rules: [ConsignmentRule] = [
        .init(
            code: "text.control-characters", fields: "every free-text field",
            meaning:
                "No control characters or line breaks: the text is shown on one line of a form, a display and the journal."
        ),
        .init(
            code: "text.printable-ascii",
            fields:
                "reference fields: postcodes, sub-entity codes, permit numbers, seal, UCR, equipment, sender's reference",
            meaning:
                "Only printable ASCII (space to ~): references are typed on other systems' keyboards and compared byte for byte."
        ),
        .init(
            code: "party.name", fields: "consignor.name, consignee.name",
            meaning: "The name is required (not blank)."),
        .init(
            code: "party.name-length", fields: "consignor.name, consignee.name",
            meaning: "The name has at most \(maximumNameLength) characters."),
        .init(
            code: "party.country-code", fields: "consignor.countryCode, consignee.countryCode",
            meaning:
                "An ISO 3166-1 alpha-2 code: exactly two upper-case letters A-Z, e.g. HK, CN. Lower case is refused, not corrected."
        ),
        .init(
            code: "party.address-lines", fields: "consignor.addressLines, consignee.addressLines",
            meaning: "One to \(maximumAddressLines) address lines."),
        .init(
            code: "party.address-line", fields: "consignor.addressLines[i], consignee.addressLines[i]",
            meaning: "An address line is not blank."),
        .init(
            code: "party.address-line-length", fields: "consignor.addressLines[i], consignee.addressLines[i]",
            meaning: "An address line has at most \(maximumAddressLineLength) characters."),
        .init(
            code: "party.sub-entity-name", fields: "consignor.subEntityName, consignee.subEntityName",
            meaning: "When given, not blank (leave it out instead)."),
        .init(
            code: "party.sub-entity-name-length", fields: "consignor.subEntityName, consignee.subEntityName",
            meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "party.sub-entity-code", fields: "consignor.subEntityCode, consignee.subEntityCode",
            meaning: "When given, not blank."),
        .init(
            code: "party.sub-entity-code-length", fields: "consignor.subEntityCode, consignee.subEntityCode",
            meaning: "At most \(maximumCodeLength) characters."),
        .init(
            code: "party.postcode", fields: "consignor.postcode, consignee.postcode",
            meaning: "When given, not blank."),
        .init(
            code: "party.postcode-length", fields: "consignor.postcode, consignee.postcode",
            meaning: "At most \(maximumCodeLength) characters."),
        .init(
            code: "goods.empty", fields: "goodsItems",
            meaning: "At least one goods item."),
        .init(
            code: "goods.too-many", fields: "goodsItems",
            meaning: "At most \(maximumGoodsItems) goods items."),
        .init(
            code: "goods.description", fields: "goodsItems[i].description",
            meaning: "The description of articles is required (not blank)."),
        .init(
            code: "goods.description-length", fields: "goodsItems[i].description",
            meaning: "At most \(maximumDescriptionLength) characters."),
        .init(
            code: "goods.package-count", fields: "goodsItems[i].packaging.count",
            meaning: "Cargo in packages has 1 to \(maximumPackageCount) packages."),
        .init(
            code: "goods.package-kind", fields: "goodsItems[i].packaging.kind",
            meaning: "Cargo in packages names the kind of package (not blank)."),
        .init(
            code: "goods.package-kind-length", fields: "goodsItems[i].packaging.kind",
            meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "goods.gross-measure", fields: "goodsItems[i]",
            meaning: "Exactly one of gross weight and gross volume."),
        .init(
            code: "goods.measure-value",
            fields:
                "goodsItems[i].grossWeight.value, goodsItems[i].grossVolume.value, goodsItems[i].netQuantity.value",
            meaning: "A positive, finite number."),
        .init(
            code: "goods.gross-weight-unit", fields: "goodsItems[i].grossWeight.unit",
            meaning: "One of \(grossWeightUnits.sorted().joined(separator: ", "))."),
        .init(
            code: "goods.gross-volume-unit", fields: "goodsItems[i].grossVolume.unit",
            meaning: "One of \(grossVolumeUnits.sorted().joined(separator: ", "))."),
        .init(
            code: "goods.net-unit", fields: "goodsItems[i].netQuantity.unit",
            meaning: "A UN/ECE Rec. 20 code from the known list, or any one to three upper-case letters."),
        .init(
            code: "permit.number", fields: "goodsItems[i].permits[j].number",
            meaning: "The permit number is required (not blank)."),
        .init(
            code: "permit.number-length", fields: "goodsItems[i].permits[j].number",
            meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "permit.issuing-authority", fields: "goodsItems[i].permits[j].issuingAuthority",
            meaning: "The issuing authority is required (not blank)."),
        .init(
            code: "permit.issuing-authority-length", fields: "goodsItems[i].permits[j].issuingAuthority",
            meaning: "At most \(maximumNameLength) characters."),
        .init(
            code: "permit.type", fields: "goodsItems[i].permits[j].type",
            meaning: "The permit type is required (not blank)."),
        .init(
            code: "permit.type-length", fields: "goodsItems[i].permits[j].type",
            meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "transhipment.port-of-loading", fields: "transhipment.portOfLoading",
            meaning: "Required (not blank) when transhipment details are given."),
        .init(
            code: "transhipment.port-of-loading-length", fields: "transhipment.portOfLoading",
            meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "transhipment.port-of-discharge", fields: "transhipment.portOfDischarge",
            meaning: "Required (not blank) when transhipment details are given."),
        .init(
            code: "transhipment.port-of-discharge-length", fields: "transhipment.portOfDischarge",
            meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "transhipment.conveyance", fields: "transhipment.conveyanceReference",
            meaning: "When given, not blank."),
        .init(
            code: "transhipment.conveyance-length", fields: "transhipment.conveyanceReference",
            meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "other.seal-number", fields: "sealNumber", meaning: "When given, not blank."),
        .init(
            code: "other.seal-number-length", fields: "sealNumber",
            meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "other.container-number", fields: "containerNumber",
            meaning: "ISO 6346 shape: four upper-case letters and seven digits, no spaces, e.g. CSQU3054383."),
        .init(
            code: "other.container-check-digit", fields: "containerNumber",
            meaning: "The last digit is the ISO 6346 check digit of the first ten characters."),
        .init(code: "other.ucr", fields: "ucr", meaning: "When given, not blank."),
        .init(
            code: "other.ucr-length", fields: "ucr", meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "other.equipment", fields: "equipmentSizeAndType", meaning: "When given, not blank."),
        .init(
            code: "other.equipment-length", fields: "equipmentSizeAndType",
            meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "other.sender-reference", fields: "senderReference", meaning: "When given, not blank."),
        .init(
            code: "other.sender-reference-length", fields: "senderReference",
            meaning: "At most \(maximumShortTextLength) characters."),
        .init(
            code: "on-behalf.shipper-name", fields: "actingOnBehalf.shipperName",
            meaning: "The name of the shipper the agent acts for is required (not blank)."),
        .init(
            code: "on-behalf.shipper-name-length", fields: "actingOnBehalf.shipperName",
            meaning: "At most \(maximumNameLength) characters."),
        .init(
            code: "on-behalf.hkid-required", fields: "actingOnBehalf.hkid",
            meaning: "An individual shipper is identified by HKID number."),
        .init(
            code: "on-behalf.hkid-company", fields: "actingOnBehalf.hkid",
            meaning: "A company shipper gives no HKID number (it identifies a person, not the company)."),
        .init(
            code: "on-behalf.hkid", fields: "actingOnBehalf.hkid",
            meaning:
                "One or two upper-case letters, six digits and a check character 0-9 or A, written A123456(3) or A1234563."
        ),
        .init(
            code: "on-behalf.hkid-check-digit", fields: "actingOnBehalf.hkid",
            meaning: "The check character matches the HKID check-digit calculation."),
        .init(
            code: "on-behalf.business-registration", fields: "actingOnBehalf.businessRegistration",
            meaning:
                "When given: the 8-digit business registration number, optionally followed by - and a 3-digit branch number (12345678 or 12345678-001)."
        ),
    ]
}
