import Central
import ClearanceCore
import Foundation
import RoadCargo
import Testing

/// The repository root, found from this file's path: the tests read the
/// documented example and XSD themselves, so the docs cannot drift from the code.
private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let batchDocs = repositoryRoot.appendingPathComponent("docs/batch")
private let schemaPath = batchDocs.appendingPathComponent("consignment-batch.xsd").path
private let examplePath = batchDocs.appendingPathComponent("example-batch.xml").path

/// `xmllint` (Debian package libxml2-utils), if installed; the schema tests
/// are skipped, saying so, when it is not. Tests never install anything.
private let xmllint: String? = {
    let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    return dirs.map { "\($0)/xmllint" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()
private let xmllintMissing =
    "xmllint is not installed (Debian package libxml2-utils); schema validation skipped"

/// Runs `xmllint --schema` on a document; true when it validates.
private func schemaAccepts(_ document: Data) throws -> (Bool, String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("batchxml-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("batch.xml")
    try document.write(to: file)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: xmllint!)
    process.arguments = ["--noout", "--nonet", "--schema", schemaPath, file.path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus == 0, text)
}

private func day(_ s: String) -> CalendarDay { try! CalendarDay(s) }

/// The example file's three consignments, as values.
private let exampleSubmissions: [ConsignmentSubmission] = [
    ConsignmentSubmission(
        direction: .outbound, expectedDate: day("2009-11-07"),
        consignor: Party(
            name: "Winning Co. Ltd.", countryCode: "HK",
            addressLines: ["Flat D, 22/F,", "333 Nathan Road, Mong Kok", "Kowloon"]),
        consignee: Party(
            name: "Fu Wing Co. Ltd", countryCode: "CN", addressLines: ["Flat E,", "Shek Lung Tsuen"]),
        goodsItems: [GoodsItem(description: "Copper Button", grossWeight: Measure(value: 550, unit: "KGM"))],
        expectedControlPoint: .lokMaChau, sealNumber: "38448", containerNumber: "HJLS2345217",
        equipmentSizeAndType: "Others", senderReference: "20091231-001"),
    ConsignmentSubmission(
        direction: .inbound, expectedDate: day("2009-11-08"),
        consignor: Party(
            name: "Cheng Wing Company", countryCode: "CN",
            addressLines: ["18 Shennan Road", "Futian District", "Shenzhen"], subEntityName: "Guangdong",
            subEntityCode: "GD", postcode: "518000"),
        consignee: Party(
            name: "Wilson Development Limited", countryCode: "HK",
            addressLines: [
                "Unit 1203, 12/F, Tower A", "88 Container Port Road, Kwai Chung", "New Territories",
            ]),
        goodsItems: [
            GoodsItem(
                description: "Chilled chickens", packaging: Packaging(count: 200, kind: "CT"),
                grossWeight: Measure(value: 3000, unit: "KGM"),
                netQuantity: Measure(value: 2800.5, unit: "KGM"),
                permits: [
                    Permit(number: "HC-2009-118830", issuingAuthority: "FEHD", type: "Health certificate")
                ]),
            GoodsItem(
                description: "Microwave ovens", packaging: Packaging(count: 120, kind: "CT"),
                grossVolume: Measure(value: 14.4, unit: "MTQ"), netQuantity: Measure(value: 120, unit: "PCE")),
        ],
        transhipment: Transhipment(
            portOfLoading: "CNSZX", portOfDischarge: "USLAX", conveyanceReference: "CX880"),
        expectedControlPoint: .manKamTo, sealNumber: "51207", containerNumber: "MSKU1234565",
        ucr: "9CN440300123-20091108-0001", equipmentSizeAndType: "22G1", senderReference: "20091231-002"),
    ConsignmentSubmission(
        direction: .inbound, expectedDate: day("2009-12-20"),
        consignor: Party(
            name: "Pearl River Resin Factory", countryCode: "CN",
            addressLines: ["3 Industrial Avenue", "Dongguan"]),
        consignee: Party(
            name: "陳永禎", countryCode: "HK",
            addressLines: [
                "Flat B, 5/F, Wing Fat Industrial Building", "12 Wang Tai Road, Kowloon Bay", "Kowloon",
            ]),
        goodsItems: [
            GoodsItem(description: "Plastic resin pellets", grossVolume: Measure(value: 12.5, unit: "MTQ"))
        ],
        expectedControlPoint: .shenzhenBay, senderReference: "20091231-003",
        actingOnBehalf: ActingOnBehalf(
            agentRole: .dataEntry, shipperType: .company, shipperName: "陳永禎", businessRegistration: "31234567"
        )),
]

/// One consignment as XML, to build files with a broken record among good ones.
private let goodRecord = """
      <consignment>
        <direction>export</direction>
        <expectedDate>2009-11-07</expectedDate>
        <consignor>
          <name>Winning Co. Ltd.</name>
          <countryCode>HK</countryCode>
          <addressLine>Flat D, 22/F,</addressLine>
          <addressLine>333 Nathan Road, Mong Kok</addressLine>
        </consignor>
        <consignee>
          <name>Fu Wing Co. Ltd</name>
          <countryCode>CN</countryCode>
          <addressLine>Flat E,</addressLine>
        </consignee>
        <goodsItem>
          <description>Copper Button</description>
          <bulk/>
          <grossWeight unit="KGM">550</grossWeight>
        </goodsItem>
        <sealNumber>38448</sealNumber>
        <senderReference>REF</senderReference>
      </consignment>
    """

private func batch(_ records: [String], root: String? = nil) -> Data {
    let open = root ?? #"<consignmentBatch xmlns="urn:lanekiosk:consignment-batch:1" version="1">"#
    return Data(
        ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\(open)\n" + records.joined(separator: "\n")
            + "\n</consignmentBatch>\n").utf8)
}

/// `goodRecord` with one textual change, which must be present.
private func variant(_ old: String, _ new: String) -> String {
    precondition(goodRecord.contains(old), "test variant: \(old) not in the record")
    return goodRecord.replacingOccurrences(of: old, with: new)
}

/// `text` without the first span from `start` through `end`.
private func removing(_ start: String, through end: String, from text: String) -> String {
    guard let a = text.range(of: start), let b = text.range(of: end, range: a.upperBound..<text.endIndex)
    else {
        preconditionFailure("test: \(start)...\(end) not found")
    }
    return text.replacingCharacters(in: a.lowerBound..<b.upperBound, with: "")
}

/// The whole-file refusal of `data`, or nil (recorded as a test issue) when it parses.
private func fileFailure(_ data: Data, sourceLocation: SourceLocation = #_sourceLocation) -> ValidationIssue?
{
    do {
        let records = try BatchXML.parse(data)
        Issue.record(
            "expected the whole file to be refused; got \(records.count) records",
            sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.issues.count == 1, sourceLocation: sourceLocation)
        return error.issues.first
    }
}

@Suite struct BatchXMLTests {
    // MARK: The example and the limits

    @Test func exampleFileParsesIntoItsThreeSubmissions() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: examplePath))
        let parsed = try BatchXML.parseBatch(data)
        #expect(
            parsed.submitter == BatchXML.Submitter(name: "Winning Co. Ltd.", batchReference: "20091231-B01"))
        #expect(parsed.records.map(\.index) == [1, 2, 3])
        #expect(parsed.records.map(\.senderReference) == ["20091231-001", "20091231-002", "20091231-003"])
        for (record, expected) in zip(parsed.records, exampleSubmissions) {
            #expect(try record.result.get() == expected)
        }
        // The briefing's consignment, field by field, for a reader of this test.
        let first = try parsed.records[0].result.get()
        #expect(first.direction == .outbound)
        #expect(first.consignee.name == "Fu Wing Co. Ltd")
        #expect(first.goodsItems[0].isBulk)
        #expect(first.goodsItems[0].grossWeight == Measure(value: 550, unit: "KGM"))
        #expect(first.sealNumber == "38448")
        #expect(try parsed.records[2].result.get().actingOnBehalf?.agentRole == .dataEntry)
    }

    @Test func documentRoundTripsEveryField() throws {
        let data = BatchXML.document(exampleSubmissions, submitter: .init(name: "Winning Co. Ltd."))
        let parsed = try BatchXML.parseBatch(data)
        #expect(parsed.submitter == .init(name: "Winning Co. Ltd."))
        #expect(try parsed.records.map { try $0.result.get() } == exampleSubmissions)
    }

    @Test func nineHundredNinetyNineRecordsParse() throws {
        let submissions = (1...999).map { i in
            var s = exampleSubmissions[i % 3]
            s.senderReference = "REF-\(i)"
            return s
        }
        let records = try BatchXML.parse(BatchXML.document(submissions))
        #expect(records.count == 999)
        #expect(records.map(\.index) == Array(1...999))
        #expect(records.allSatisfy { (try? $0.result.get()) != nil })
        #expect(records[998].senderReference == "REF-999")
    }

    @Test func aThousandRecordsAreRefusedWhole() {
        let data = BatchXML.document(Array(repeating: exampleSubmissions[0], count: 1000))
        let issue = fileFailure(data)
        #expect(issue?.rule == "batch.too-many")
        #expect(issue?.detail.contains("1000") == true)
        #expect(issue?.detail.contains("999") == true)
    }

    @Test func anEmptyBatchIsRefused() {
        #expect(fileFailure(batch([]))?.rule == "batch.empty")
    }

    @Test func aFileOverSixteenMebibytesIsRefusedUnread() {
        var data = batch([goodRecord])
        data.append(Data(repeating: UInt8(ascii: " "), count: BatchXML.maximumBytes))
        let issue = fileFailure(data)
        #expect(issue?.rule == "batch.too-large")
    }

    // MARK: Whole-file refusals

    @Test func malformedXMLIsRefusedWithItsLine() {
        let data = Data(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <consignmentBatch xmlns="urn:lanekiosk:consignment-batch:1" version="1">
              <consignment>
                <direction>export</direction>
              </consignmnet>
            </consignmentBatch>
            """.utf8)
        let issue = fileFailure(data)
        #expect(issue?.rule == "batch.malformed")
        #expect(issue?.detail.contains("line 5") == true, "\(issue?.detail ?? "")")
        #expect(issue?.detail.contains("an end tag does not match its start tag") == true)
    }

    @Test(arguments: [
        ("not XML at all", "batch.malformed"),
        ("<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"1\">", "batch.malformed"),
        ("<batch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"1\"/>", "batch.root"),
        ("<consignmentBatch version=\"1\"/>", "batch.root"),
        ("<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:2\" version=\"1\"/>", "batch.root"),
        ("<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\"/>", "batch.version"),
        ("<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"2\"/>", "batch.version"),
        (
            "<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"1\" id=\"x\"/>",
            "batch.root"
        ),
        (
            "<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"1\">text</consignmentBatch>",
            "batch.unexpected"
        ),
        (
            "<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"1\"><note/></consignmentBatch>",
            "batch.unexpected"
        ),
        (
            "<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"1\">\(goodRecord)<submitter><name>x</name></submitter></consignmentBatch>",
            "batch.unexpected"
        ),
        (
            "<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"1\"><submitter/>\(goodRecord)</consignmentBatch>",
            "xml.missing"
        ),
        (
            "<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"1\">\(goodRecord)</consignmentBatch><x/>",
            "batch.malformed"
        ),
        (
            "<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"1\">&amp\(goodRecord)</consignmentBatch>",
            "batch.malformed"
        ),
    ])
    func wholeFileRefusals(document: String, rule: String) {
        #expect(fileFailure(Data(document.utf8))?.rule == rule)
    }

    @Test func deepNestingIsRefused() {
        let deep = String(repeating: "<x>", count: 50) + String(repeating: "</x>", count: 50)
        let issue = fileFailure(batch([variant("<bulk/>", "<bulk/>" + deep)]))
        #expect(issue?.rule == "batch.too-deep")
    }

    @Test func onlyUTF8IsRead() {
        var utf16 = Data([0xFF, 0xFE])
        utf16.append(#"<consignmentBatch/>"#.data(using: .utf16LittleEndian)!)
        #expect(fileFailure(utf16)?.rule == "batch.encoding")
        let latin1 = Data(#"<?xml version="1.0" encoding="ISO-8859-1"?><consignmentBatch/>"#.utf8)
        #expect(fileFailure(latin1)?.rule == "batch.encoding")
        // A UTF-8 byte order mark is fine.
        var bom = Data([0xEF, 0xBB, 0xBF])
        bom.append(batch([goodRecord]))
        #expect(throws: Never.self) { try BatchXML.parse(bom) }
    }

    // MARK: XML abuse

    @Test(arguments: [
        // Billion laughs.
        """
        <?xml version="1.0"?>
        <!DOCTYPE consignmentBatch [
          <!ENTITY lol "lol">
          <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
          <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
        ]>
        <consignmentBatch xmlns="urn:lanekiosk:consignment-batch:1" version="1">&lol3;</consignmentBatch>
        """,
        // External entity (XXE).
        """
        <?xml version="1.0"?>
        <!DOCTYPE consignmentBatch [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
        <consignmentBatch xmlns="urn:lanekiosk:consignment-batch:1" version="1">&xxe;</consignmentBatch>
        """,
        // External DTD, behind a comment and a processing instruction.
        """
        <?xml version="1.0"?>
        <!-- harmless? -->
        <?pi data?>
        <!DOCTYPE consignmentBatch SYSTEM "http://example.invalid/evil.dtd">
        <consignmentBatch xmlns="urn:lanekiosk:consignment-batch:1" version="1"/>
        """,
    ])
    func documentTypeDeclarationsAreRefused(document: String) {
        #expect(fileFailure(Data(document.utf8))?.rule == "batch.doctype")
    }

    @Test func aDoctypeBehindALongCommentIsRefused() {
        let comment = "<!--" + String(repeating: "padding ", count: 20_000) + "-->\n"
        let document =
            "<?xml version=\"1.0\"?>\n" + comment
            + "<!DOCTYPE consignmentBatch [<!ENTITY x \"y\">]>\n"
            + "<consignmentBatch xmlns=\"urn:lanekiosk:consignment-batch:1\" version=\"1\">&x;</consignmentBatch>"
        #expect(fileFailure(Data(document.utf8))?.rule == "batch.doctype")
    }

    @Test func anEntityReferenceWithoutADTDIsMalformed() {
        let issue = fileFailure(batch([variant("<sealNumber>38448", "<sealNumber>&xxe;")]))
        #expect(issue?.rule == "batch.malformed")
    }

    // MARK: Per-record results

    @Test func aBrokenRecordIsRefusedAloneNamingItsField() throws {
        let records = try BatchXML.parse(
            batch([
                goodRecord,
                variant("2009-11-07", "2009-02-30"),
                variant("<countryCode>HK</countryCode>", "<countryCode>HK</countryCode><fax>123</fax>"),
                removing("<consignee>", through: "</consignee>", from: variant("REF", "NO-CONSIGNEE")),
                goodRecord,
            ]))
        #expect(records.map(\.index) == [1, 2, 3, 4, 5])
        #expect((try? records[0].result.get()) != nil)
        #expect((try? records[4].result.get()) != nil)

        func issues(_ i: Int) -> [ValidationIssue] {
            guard case .failure(let f) = records[i].result else { return [] }
            return f.issues
        }
        #expect(issues(1).map(\.field) == ["expectedDate"])
        #expect(issues(1).map(\.rule) == ["xml.date"])
        #expect(issues(1).first?.detail.contains("2009-02-30") == true)
        #expect(issues(2).map(\.field) == ["consignor.fax"])
        #expect(issues(2).map(\.rule) == ["xml.unknown-element"])
        #expect(issues(3).map(\.field) == ["consignee"])
        #expect(issues(3).map(\.rule) == ["xml.missing"])
        // A refused record still carries its reference, to be matched by the sender.
        #expect(records[3].senderReference == "NO-CONSIGNEE")
    }

    /// A batch record's text goes through the same limits as a JSON
    /// submission: a combining-mark flood of 70 characters is refused by bytes.
    @Test func aNameFloodInABatchRecordIsRefusedByBytes() throws {
        let flood = String(repeating: "\u{E9}" + String(repeating: "\u{301}", count: 299), count: 70)
        let records = try BatchXML.parse(
            batch([variant("<name>Winning Co. Ltd.</name>", "<name>\(flood)</name>")]))
        let submission = try #require(try? records[0].result.get(), "the record is well-formed")
        let issues = ConsignmentValidation.issues(in: submission)
        #expect(issues.map(\.rule) == ["party.name-length"])
        #expect(
            issues.first?.detail
                == "the name has at most 70 characters and 280 bytes of UTF-8; this one has 70 characters and 42000 bytes"
        )
    }

    /// A change to the good record, the issues the parser must report for it
    /// (none: it must parse), and so whether the XSD must accept it.
    struct Case: Sendable, CustomTestStringConvertible {
        var old: String
        var new: String
        var expected: [(field: String, rule: String)]
        var testDescription: String { "\(old) -> \(new)" }
        var document: Data { batch([variant(old, new)]) }
    }

    static let cases: [Case] = [
        // Refused by both.
        Case(old: "export", new: "EXPORT", expected: [("direction", "xml.enum")]),
        Case(old: "export", new: "", expected: [("direction", "xml.empty")]),
        Case(old: "2009-11-07", new: "07/11/2009", expected: [("expectedDate", "xml.date")]),
        Case(old: "2009-11-07", new: "1899-12-31", expected: [("expectedDate", "xml.date")]),
        Case(
            old: "<countryCode>HK", new: "<countryCode>hk",
            expected: [("consignor.countryCode", "xml.format")]),
        Case(
            old: "<addressLine>333", new: "<addressLine></addressLine><x/><addressLine>333",
            expected: [
                ("consignor.addressLines[1]", "xml.empty"), ("consignor.x", "xml.unknown-element"),
            ]),
        Case(
            old: "<addressLine>Flat E,</addressLine>",
            new: String(repeating: "<addressLine>l</addressLine>", count: 6),
            expected: [("consignee.addressLines[5]", "xml.repeated")]),
        Case(
            old: ">550<", new: ">five hundred<", expected: [("goodsItems[0].grossWeight.value", "xml.number")]
        ),
        Case(old: ">550<", new: ">0<", expected: [("goodsItems[0].grossWeight.value", "xml.number")]),
        Case(old: ">550<", new: ">1e3<", expected: [("goodsItems[0].grossWeight.value", "xml.number")]),
        Case(
            old: "unit=\"KGM\"", new: "unit=\"Kilogram\"",
            expected: [("goodsItems[0].grossWeight.unit", "xml.format")]),
        Case(old: " unit=\"KGM\"", new: "", expected: [("goodsItems[0].grossWeight.unit", "xml.missing")]),
        Case(
            old: "unit=\"KGM\"", new: "unit=\"KGM\" net=\"1\"",
            expected: [("goodsItems[0].grossWeight.net", "xml.attribute")]),
        Case(
            old: "<bulk/>", new: "<packaging><count>0</count><kind>CT</kind></packaging>",
            expected: [("goodsItems[0].packaging.count", "xml.number")]),
        Case(
            old: "<bulk/>", new: "<bulk/><packaging><count>1</count><kind>CT</kind></packaging>",
            expected: [("goodsItems[0].packaging", "xml.choice")]),
        Case(old: "<bulk/>", new: "", expected: [("goodsItems[0].packaging", "xml.missing")]),
        Case(old: "<bulk/>", new: "<bulk>yes</bulk>", expected: [("goodsItems[0].packaging", "xml.text")]),
        // XML Schema's empty content admits not even whitespace.
        Case(old: "<bulk/>", new: "<bulk> </bulk>", expected: [("goodsItems[0].packaging", "xml.text")]),
        Case(
            old: "<grossWeight unit=\"KGM\">550</grossWeight>",
            new: "<grossWeight unit=\"KGM\">550</grossWeight><grossVolume unit=\"MTQ\">2</grossVolume>",
            expected: [("goodsItems[0].grossWeight", "xml.choice")]),
        Case(
            old: "<description>Copper Button</description>\n      <bulk/>",
            new: "<bulk/><description>Copper Button</description>",
            expected: [("goodsItems[0].description", "xml.order")]),
        Case(
            old: "<sealNumber>38448</sealNumber>",
            new: "<expectedControlPoint>Lok Ma Chau</expectedControlPoint>",
            expected: [("expectedControlPoint", "xml.enum")]),
        Case(
            old: "<sealNumber>38448</sealNumber>",
            new: "<sealNumber>38448</sealNumber><sealNumber>38449</sealNumber>",
            expected: [("sealNumber", "xml.repeated")]),
        Case(
            old: "<sealNumber>38448</sealNumber>", new: "<sealNumber>38448<b>!</b></sealNumber>",
            expected: [("sealNumber.b", "xml.unknown-element")]),
        Case(
            old: "<sealNumber>38448</sealNumber>",
            new:
                "<actingOnBehalf><agentRole>agent</agentRole><shipperType>company</shipperType></actingOnBehalf>",
            expected: [
                ("actingOnBehalf.agentRole", "xml.enum"), ("actingOnBehalf.shipperName", "xml.missing"),
                ("senderReference", "xml.order"),
            ]),
        Case(old: "<consignor>", new: "<consignor>stray", expected: [("consignor", "xml.text")]),
        Case(
            old: "<sealNumber>",
            new: "<sealNumber xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:nil=\"true\">",
            expected: [("sealNumber.xsi:nil", "xml.attribute")]),
        Case(
            old: "<goodsItem>", new: "<goodsItem id=\"1\">", expected: [("goodsItems[0].id", "xml.attribute")]
        ),
        Case(
            old: "<sealNumber>", new: "<sealNumber xmlns=\"urn:other\">",
            expected: [("sealNumber", "xml.unknown-element")]),
        // Accepted by both: xs:token whitespace, empty optionals, decimal forms.
        Case(old: ">export<", new: ">\n  export \n<", expected: []),
        Case(old: "<sealNumber>38448</sealNumber>", new: "<sealNumber/><ucr></ucr>", expected: []),
        Case(old: ">550<", new: "> +550.<", expected: []),
        Case(old: ">550<", new: ">.5<", expected: []),
        Case(old: "unit=\"KGM\"", new: "unit=\" KGM \"", expected: []),
        Case(old: "2009-11-07", new: " 2009-11-07\n", expected: []),
        Case(old: "<bulk/>", new: "<bulk><!-- nothing --></bulk>", expected: []),
        Case(old: "<sealNumber>38448", new: "<sealNumber><![CDATA[38448]]>", expected: []),
        Case(
            old: "<bulk/>", new: "<packaging><count>+007</count><kind>CT</kind></packaging>",
            expected: []),
    ]

    @Test(arguments: cases)
    func structuralIssuesNameTheirField(_ c: Case) throws {
        let records = try BatchXML.parse(c.document)
        #expect(records.count == 1)
        switch records[0].result {
        case .success:
            #expect(c.expected.isEmpty, "parsed, but expected \(c.expected)")
        case .failure(let f):
            // Order is not part of the contract; the set of issues is.
            let got = Set(f.issues.map { "\($0.field) \($0.rule)" })
            #expect(got == Set(c.expected.map { "\($0.field) \($0.rule)" }), "\(f)")
        }
    }

    @Test func textIsNormalisedLikeXSToken() throws {
        let records = try BatchXML.parse(
            batch([variant("<name>Winning Co. Ltd.</name>", "<name>\n   Winning\tCo.   Ltd. \n</name>")]))
        #expect(try records[0].result.get().consignor.name == "Winning Co. Ltd.")
    }

    @Test func issuesPerRecordAreCapped() throws {
        let junk = (0..<500).map { "<junk\($0)/>" }.joined()
        let records = try BatchXML.parse(batch([variant("<sealNumber>", junk + "<sealNumber>")]))
        guard case .failure(let f) = records[0].result else {
            Issue.record("a record with 500 unknown elements parsed")
            return
        }
        #expect(f.issues.count == BatchXML.maximumIssuesPerRecord + 1)
        #expect(f.issues.last?.rule == "xml.too-many-issues")
    }

    @Test func anOversizedRecordIsRefusedAlone() throws {
        let many = String(repeating: "<x/>", count: BatchXML.maximumElementsPerRecord)
        let records = try BatchXML.parse(batch([variant("<sealNumber>", many + "<sealNumber>"), goodRecord]))
        guard case .failure(let f) = records[0].result else {
            Issue.record("an oversized record parsed")
            return
        }
        #expect(f.issues.map(\.rule) == ["xml.too-large"])
        #expect(records[0].senderReference == nil)  // beyond the cap, not kept
        #expect((try? records[1].result.get()) != nil)
    }

    @Test(arguments: [
        (0.00001, "0.00001"), (999_999_999_999, "999999999999"), (550, "550"), (12.5, "12.5"),
        (2.5e-7, "0.00000025"), (1234567.125, "1234567.125"),
    ])
    func decimalsAreWrittenWithoutExponent(value: Double, text: String) throws {
        var s = exampleSubmissions[0]
        s.goodsItems[0].grossWeight = Measure(value: value, unit: "KGM")
        let data = BatchXML.document([s])
        #expect(String(decoding: data, as: UTF8.self).contains(">\(text)</grossWeight>"))
        #expect(try BatchXML.parse(data)[0].result.get() == s)
    }

    // MARK: The XSD says the same as the parser

    @Test(.enabled(if: xmllint != nil, Comment(rawValue: xmllintMissing)))
    func exampleAndNineHundredNinetyNineRecordsValidateAgainstTheXSD() throws {
        let example = try Data(contentsOf: URL(fileURLWithPath: examplePath))
        let (ok, out) = try schemaAccepts(example)
        #expect(ok, "\(out)")
        let big = BatchXML.document(
            (0..<999).map { exampleSubmissions[$0 % 3] }, submitter: .init(name: "Winning Co. Ltd."))
        let (bigOK, bigOut) = try schemaAccepts(big)
        #expect(bigOK, "\(bigOut.prefix(500))")
        let (tooBigOK, _) = try schemaAccepts(
            BatchXML.document(Array(repeating: exampleSubmissions[0], count: 1000)))
        #expect(!tooBigOK, "the XSD must refuse 1000 consignments too")
    }

    @Test(.enabled(if: xmllint != nil, Comment(rawValue: xmllintMissing)), arguments: cases)
    func theXSDAgreesWithTheParser(_ c: Case) throws {
        let (ok, out) = try schemaAccepts(c.document)
        #expect(ok == c.expected.isEmpty, "xmllint: \(out)")
    }
}
