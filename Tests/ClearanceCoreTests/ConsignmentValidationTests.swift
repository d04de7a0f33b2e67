import ClearanceCore
import Foundation
import RoadCargo
import Testing

private typealias F = Fixtures

/// One bad submission: the briefing's full example with one thing broken.
struct BadSubmission: Sendable, CustomTestStringConvertible {
    var field: String
    var rule: String
    var breakIt: @Sendable (inout ConsignmentSubmission) -> Void

    init(
        _ field: String, _ rule: String, _ breakIt: @escaping @Sendable (inout ConsignmentSubmission) -> Void
    ) {
        self.field = field
        self.rule = rule
        self.breakIt = breakIt
    }

    var testDescription: String { "\(field) \(rule)" }
}

private let long70 = String(repeating: "W", count: 71)
/// 70 characters of 600 bytes each: a combining-mark flood a character count lets in.
private let flood70 = String(repeating: "\u{E9}" + String(repeating: "\u{301}", count: 299), count: 70)
private let long35 = String(repeating: "a", count: 36)

@Suite("Consignment field validation")
struct ConsignmentValidationTests {
    @Test("the briefing's form, every part filled in, passes")
    func briefingExample() throws {
        let s = F.briefingSubmission
        #expect(ConsignmentValidation.issues(in: s) == [])
        // Submitted by an agent within the window, the whole submission passes.
        try SubmissionRules.validate(s, submittedAt: F.hk("2009-11-01 09:00:00"), by: .agent)
        // Part VI as in the briefing: its container number passes ISO 6346.
        #expect(s.containerNumber == "HJLS2345217")
        #expect(s.sealNumber == "38448")
    }

    @Test("the smallest submission passes too")
    func minimal() {
        #expect(ConsignmentValidation.issues(in: F.submission()) == [])
    }

    static let bad: [BadSubmission] = [
        // Parts II and III
        .init("consignor.name", "party.name") { $0.consignor.name = "  " },
        .init("consignee.name", "party.name-length") { $0.consignee.name = long70 },
        .init("consignor.name", "party.name-length") { $0.consignor.name = flood70 },
        .init("consignee.name", "text.control-characters") { $0.consignee.name = "Fu Wing\nCo." },
        .init("consignor.countryCode", "party.country-code") { $0.consignor.countryCode = "hk" },
        .init("consignor.countryCode", "party.country-code") { $0.consignor.countryCode = "HKG" },
        .init("consignee.countryCode", "party.country-code") { $0.consignee.countryCode = "China" },
        .init("consignee.countryCode", "party.country-code") { $0.consignee.countryCode = "" },
        .init("consignor.addressLines", "party.address-lines") { $0.consignor.addressLines = [] },
        .init("consignor.addressLines", "party.address-lines") {
            $0.consignor.addressLines = Array(repeating: "x", count: 6)
        },
        .init("consignee.addressLines[1]", "party.address-line") { $0.consignee.addressLines[1] = "" },
        .init("consignee.addressLines[2]", "party.address-line-length") {
            $0.consignee.addressLines[2] = long35
        },
        .init("consignor.subEntityName", "party.sub-entity-name") { $0.consignor.subEntityName = "" },
        .init("consignor.subEntityName", "party.sub-entity-name-length") {
            $0.consignor.subEntityName = long35
        },
        .init("consignee.subEntityCode", "party.sub-entity-code") { $0.consignee.subEntityCode = " " },
        .init("consignee.subEntityCode", "party.sub-entity-code-length") {
            $0.consignee.subEntityCode = "GUANGDONG1"
        },
        .init("consignee.subEntityCode", "text.printable-ascii") { $0.consignee.subEntityCode = "廣東" },
        .init("consignee.postcode", "party.postcode") { $0.consignee.postcode = "" },
        .init("consignee.postcode", "party.postcode-length") { $0.consignee.postcode = "5180000000" },
        // Part IV
        .init("goodsItems", "goods.empty") { $0.goodsItems = [] },
        .init("goodsItems", "goods.too-many") {
            $0.goodsItems = Array(repeating: $0.goodsItems[0], count: 1000)
        },
        .init("goodsItems[0].description", "goods.description") { $0.goodsItems[0].description = "" },
        .init("goodsItems[1].description", "goods.description-length") {
            $0.goodsItems[1].description = String(repeating: "d", count: 281)
        },
        .init("goodsItems[1].packaging.count", "goods.package-count") {
            $0.goodsItems[1].packaging?.count = 0
        },
        .init("goodsItems[1].packaging.count", "goods.package-count") {
            $0.goodsItems[1].packaging?.count = -3
        },
        .init("goodsItems[1].packaging.count", "goods.package-count") {
            $0.goodsItems[1].packaging?.count = 100_000_000
        },
        .init("goodsItems[1].packaging.kind", "goods.package-kind") { $0.goodsItems[1].packaging?.kind = "" },
        .init("goodsItems[1].packaging.kind", "goods.package-kind-length") {
            $0.goodsItems[1].packaging?.kind = long35
        },
        .init("goodsItems[0]", "goods.gross-measure") { $0.goodsItems[0].grossWeight = nil },
        .init("goodsItems[1]", "goods.gross-measure") {
            $0.goodsItems[1].grossWeight = Measure(value: 1, unit: "KGM")
        },
        .init("goodsItems[0].grossWeight.value", "goods.measure-value") {
            $0.goodsItems[0].grossWeight?.value = 0
        },
        .init("goodsItems[0].grossWeight.value", "goods.measure-value") {
            $0.goodsItems[0].grossWeight?.value = -550
        },
        .init("goodsItems[0].grossWeight.value", "goods.measure-value") {
            $0.goodsItems[0].grossWeight?.value = .nan
        },
        .init("goodsItems[1].grossVolume.value", "goods.measure-value") {
            $0.goodsItems[1].grossVolume?.value = .infinity
        },
        .init("goodsItems[0].netQuantity.value", "goods.measure-value") {
            $0.goodsItems[0].netQuantity?.value = 0
        },
        .init("goodsItems[0].grossWeight.unit", "goods.gross-weight-unit") {
            $0.goodsItems[0].grossWeight?.unit = "kgm"
        },
        .init("goodsItems[0].grossWeight.unit", "goods.gross-weight-unit") {
            $0.goodsItems[0].grossWeight?.unit = "MTQ"
        },
        .init("goodsItems[0].grossWeight.unit", "goods.gross-weight-unit") {
            $0.goodsItems[0].grossWeight?.unit = "Kilogram"
        },
        .init("goodsItems[1].grossVolume.unit", "goods.gross-volume-unit") {
            $0.goodsItems[1].grossVolume?.unit = "KGM"
        },
        .init("goodsItems[0].netQuantity.unit", "goods.net-unit") { $0.goodsItems[0].netQuantity?.unit = "" },
        .init("goodsItems[0].netQuantity.unit", "goods.net-unit") {
            $0.goodsItems[0].netQuantity?.unit = "pce"
        },
        .init("goodsItems[0].netQuantity.unit", "goods.net-unit") {
            $0.goodsItems[0].netQuantity?.unit = "PIECE"
        },
        .init("goodsItems[0].netQuantity.unit", "goods.net-unit") {
            $0.goodsItems[0].netQuantity?.unit = "X9Z"
        },
        .init("goodsItems[1].permits[0].number", "permit.number") { $0.goodsItems[1].permits[0].number = "" },
        .init("goodsItems[1].permits[0].number", "permit.number-length") {
            $0.goodsItems[1].permits[0].number = long35
        },
        .init("goodsItems[1].permits[0].number", "text.printable-ascii") {
            $0.goodsItems[1].permits[0].number = "P\t1"
        },
        .init("goodsItems[1].permits[0].issuingAuthority", "permit.issuing-authority") {
            $0.goodsItems[1].permits[0].issuingAuthority = ""
        },
        .init("goodsItems[1].permits[0].issuingAuthority", "permit.issuing-authority-length") {
            $0.goodsItems[1].permits[0].issuingAuthority = long70
        },
        .init("goodsItems[1].permits[0].type", "permit.type") { $0.goodsItems[1].permits[0].type = "\t" },
        .init("goodsItems[1].permits[0].type", "permit.type-length") {
            $0.goodsItems[1].permits[0].type = long35
        },
        // Part V
        .init("transhipment.portOfLoading", "transhipment.port-of-loading") {
            $0.transhipment?.portOfLoading = ""
        },
        .init("transhipment.portOfLoading", "transhipment.port-of-loading-length") {
            $0.transhipment?.portOfLoading = long35
        },
        .init("transhipment.portOfDischarge", "transhipment.port-of-discharge") {
            $0.transhipment?.portOfDischarge = " "
        },
        .init("transhipment.portOfDischarge", "transhipment.port-of-discharge-length") {
            $0.transhipment?.portOfDischarge = long35
        },
        .init("transhipment.conveyanceReference", "transhipment.conveyance") {
            $0.transhipment?.conveyanceReference = ""
        },
        .init("transhipment.conveyanceReference", "transhipment.conveyance-length") {
            $0.transhipment?.conveyanceReference = long35
        },
        // Part VI
        .init("sealNumber", "other.seal-number") { $0.sealNumber = "" },
        .init("sealNumber", "other.seal-number-length") { $0.sealNumber = long35 },
        .init("sealNumber", "text.printable-ascii") { $0.sealNumber = "38448\u{0}" },
        .init("containerNumber", "other.container-check-digit") { $0.containerNumber = "HJLS2345218" },
        .init("containerNumber", "other.container-check-digit") { $0.containerNumber = "HJLU2345217" },
        .init("containerNumber", "other.container-number") { $0.containerNumber = "HJLS 234521 7" },
        .init("containerNumber", "other.container-number") { $0.containerNumber = "hjls2345217" },
        .init("containerNumber", "other.container-number") { $0.containerNumber = "HJL2345217" },
        .init("containerNumber", "other.container-number") { $0.containerNumber = "" },
        .init("ucr", "other.ucr") { $0.ucr = "" },
        .init("ucr", "other.ucr-length") { $0.ucr = long35 },
        // An en dash, as pasted from a word processor.
        .init("ucr", "text.printable-ascii") { $0.ucr = "UCR–1" },
        .init("equipmentSizeAndType", "other.equipment") { $0.equipmentSizeAndType = " " },
        .init("equipmentSizeAndType", "other.equipment-length") { $0.equipmentSizeAndType = long35 },
        .init("senderReference", "other.sender-reference") { $0.senderReference = "" },
        .init("senderReference", "other.sender-reference-length") { $0.senderReference = long35 },
        // Acting on behalf
        .init("actingOnBehalf.shipperName", "on-behalf.shipper-name") { $0.actingOnBehalf?.shipperName = "" },
        .init("actingOnBehalf.shipperName", "on-behalf.shipper-name-length") {
            $0.actingOnBehalf?.shipperName = long70
        },
        .init("actingOnBehalf.hkid", "on-behalf.hkid-required") {
            $0.actingOnBehalf?.shipperType = .individual
        },
        .init("actingOnBehalf.hkid", "on-behalf.hkid-company") { $0.actingOnBehalf?.hkid = "A123456(3)" },
        .init("actingOnBehalf.hkid", "on-behalf.hkid") {
            $0.actingOnBehalf?.shipperType = .individual
            $0.actingOnBehalf?.hkid = "a123456(3)"
        },
        .init("actingOnBehalf.hkid", "on-behalf.hkid") {
            $0.actingOnBehalf?.shipperType = .individual
            $0.actingOnBehalf?.hkid = "A12345(6)"
        },
        .init("actingOnBehalf.hkid", "on-behalf.hkid-check-digit") {
            $0.actingOnBehalf?.shipperType = .individual
            $0.actingOnBehalf?.hkid = "A123456(4)"
        },
        .init("actingOnBehalf.businessRegistration", "on-behalf.business-registration") {
            $0.actingOnBehalf?.businessRegistration = "1234567"
        },
        .init("actingOnBehalf.businessRegistration", "on-behalf.business-registration") {
            $0.actingOnBehalf?.businessRegistration = "12345678-1"
        },
    ]

    @Test("each bad submission names its field and rule", arguments: bad)
    func badSubmission(_ b: BadSubmission) {
        var s = F.briefingSubmission
        b.breakIt(&s)
        let issues = ConsignmentValidation.issues(in: s)
        #expect(issues.map(\.field) == [b.field] || issues.count > 1 && b.rule == "goods.too-many")
        #expect(issues.first?.rule == b.rule)
        #expect(issues.first.map { !$0.detail.isEmpty } == true)
    }

    @Test("one goods item copied 1000 times is reported once, as too many")
    func tooMany() {
        var s = F.briefingSubmission
        s.goodsItems = Array(repeating: s.goodsItems[0], count: 1000)
        #expect(ConsignmentValidation.issues(in: s).map(\.rule) == ["goods.too-many"])
        s.goodsItems.removeLast()
        #expect(ConsignmentValidation.issues(in: s).isEmpty)
    }

    @Test("every rule in the table is exercised by a bad submission, and no other rule is reported")
    func tableCovered() {
        let table = Set(ConsignmentValidation.rules.map(\.code))
        #expect(table.count == ConsignmentValidation.rules.count, "codes are unique")
        let exercised = Set(Self.bad.map(\.rule))
        #expect(exercised == table)
    }

    @Test("every issue is reported, not only the first")
    func collectsAll() {
        var s = F.briefingSubmission
        s.consignor.name = ""
        s.consignee.countryCode = "cn"
        s.consignee.addressLines.append(contentsOf: ["4", "5", ""])
        s.goodsItems[0].grossVolume = Measure(value: -1, unit: "M3")
        s.goodsItems[1].permits.append(Permit(number: "", issuingAuthority: "", type: ""))
        s.containerNumber = "HJLS2345210"
        s.actingOnBehalf?.shipperType = .individual
        let issues = ConsignmentValidation.issues(in: s)
        #expect(
            issues.map { "\($0.field) \($0.rule)" } == [
                "consignor.name party.name",
                "consignee.countryCode party.country-code",
                "consignee.addressLines party.address-lines",
                "consignee.addressLines[5] party.address-line",
                "goodsItems[0] goods.gross-measure",
                "goodsItems[0].grossVolume.value goods.measure-value",
                "goodsItems[0].grossVolume.unit goods.gross-volume-unit",
                "goodsItems[1].permits[1].number permit.number",
                "goodsItems[1].permits[1].issuingAuthority permit.issuing-authority",
                "goodsItems[1].permits[1].type permit.type",
                "containerNumber other.container-check-digit",
                "actingOnBehalf.hkid on-behalf.hkid-required",
            ])
        // A lower-case code gets a hint, not a silent fix.
        #expect(issues[1].detail.contains("\"CN\""))
    }

    @Test("a combining-mark flood within the character limit is refused by bytes, naming both limits")
    func bytes() {
        var s = F.submission()
        s.consignor.name = flood70
        #expect(flood70.count == 70 && flood70.utf8.count == 42_000)
        let issues = ConsignmentValidation.issues(in: s)
        #expect(
            issues.map(\.description) == [
                "consignor.name: the name has at most 70 characters and 280 bytes of UTF-8; this one has 70 "
                    + "characters and 42000 bytes [party.name-length]"
            ])
        // Chinese at the character limit is three bytes a character: it passes.
        s.consignor.name = String(repeating: "關", count: 70)
        #expect(ConsignmentValidation.issues(in: s) == [])
    }

    @Test("limits are inclusive: exactly the maximum length passes")
    func exactLimits() {
        var s = F.briefingSubmission
        s.consignor.name = String(repeating: "N", count: 70)
        s.consignor.addressLines = Array(repeating: String(repeating: "a", count: 35), count: 5)
        s.goodsItems[0].description = String(repeating: "d", count: 280)
        s.sealNumber = String(repeating: "9", count: 35)
        s.goodsItems[1].packaging?.count = 99_999_999
        s.consignee.postcode = "123456789"
        // Characters are counted as a person counts them, so Chinese names use the same limit.
        s.consignee.name = String(repeating: "陳", count: 70)
        #expect(ConsignmentValidation.issues(in: s) == [])
    }

    @Test("every two-letter upper-case code has the country-code shape; other shapes do not")
    func countryCodes() {
        let letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        var s = F.submission()
        var refused: [String] = []
        for a in letters {
            for b in letters {
                s.consignor.countryCode = "\(a)\(b)"
                if !ConsignmentValidation.issues(in: s).isEmpty { refused.append("\(a)\(b)") }
            }
        }
        #expect(refused.isEmpty)
        for code in ["H", "HKG", "H1", "hK", " HK", "ＨＫ", "HK\n"] {
            s.consignor.countryCode = code
            #expect(ConsignmentValidation.issues(in: s).map(\.rule) == ["party.country-code"], "\(code)")
        }
    }

    @Test("generated container numbers: the right check digit passes, every other is refused")
    func generatedContainers() {
        var s = F.submission()
        let owners = ["CSQU", "HJLS", "MSKU", "TGHU", "OOLU", "APZU"]
        var wrong: [String] = []
        for (i, owner) in owners.enumerated() {
            for serial in stride(from: i, to: 1_000_000, by: 49_999) {
                let body =
                    owner
                    + String(String(serial).reversed()).padding(toLength: 6, withPad: "0", startingAt: 0)
                for digit in 0...9 {
                    s.containerNumber = body + String(digit)
                    let rules = ConsignmentValidation.issues(in: s).map(\.rule)
                    let right = ISO6346.checkDigit(for: body) == digit
                    if rules != (right ? [] : ["other.container-check-digit"]) {
                        wrong.append(body + String(digit))
                    }
                }
            }
        }
        #expect(wrong.isEmpty)
    }

    @Test("an individual shipper's HKID with its check character passes, also without brackets")
    func hkid() {
        var s = F.briefingSubmission
        s.actingOnBehalf = ActingOnBehalf(
            agentRole: .customsBroker, shipperType: .individual, shipperName: "CHAN Tai Man",
            hkid: "A123456(3)")
        #expect(ConsignmentValidation.issues(in: s) == [])
        s.actingOnBehalf?.hkid = "A1234563"
        #expect(ConsignmentValidation.issues(in: s) == [])
        s.actingOnBehalf?.hkid = "AB987654(3)"
        #expect(ConsignmentValidation.issues(in: s) == [])
    }

    @Test("every rule code is documented in docs/rules.md")
    func documented() throws {
        let doc = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/rules.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        let other = [
            "submission.window", "submission.agent-on-behalf", "submission.shipper-on-behalf", "amend.window",
            "amend.direction", "consignment.bundled", "consignment.withdrawn", "consignment.spent",
            "bundle.driver-name", "bundle.ccrns-empty", "bundle.ccrns-too-many", "bundle.ccrn-duplicate",
            "bundle.ccrn-unknown", "bundle.ccrn-withdrawn", "bundle.ccrn-spent", "bundle.ccrn-bundled",
            "bundle.ccrn-expired", "bundle.ccrn-direction", "bundle.vrn-active", "bundle.used",
            "bundle.debundled",
            "vrn.empty", "vrn.length", "vrn.characters", "ccrn.digits", "ccrn.length", "ccrn.check-digit",
            "date.format", "date.range", "time.format", "selection.key-length", "selection.rate-range",
        ]
        let missing = (ConsignmentValidation.rules.map(\.code) + other).filter { !text.contains("`\($0)`") }
        #expect(missing.isEmpty)
    }
}
