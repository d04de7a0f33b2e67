import Foundation
import Testing

/// lanectl's central commands against a real clearanced process.
@Suite struct CentralCommandTests {
    static let submission = """
        {"direction": "import", "expectedDate": "2026-11-28",
         "consignor": {"name": "Shenzhen Widgets Ltd", "countryCode": "CN", "addressLines": ["1 Shennan Road", "Shenzhen"]},
         "consignee": {"name": "Winning Co Ltd", "countryCode": "HK", "addressLines": ["2 Nathan Road", "Kowloon"]},
         "goodsItems": [{"description": "plastic widgets", "packaging": {"count": 10, "kind": "CT"},
                         "grossWeight": {"value": 550, "unit": "KGM"}}]}
        """

    /// A field's value in one of lanectl's two-column summaries.
    func field(_ name: String, in text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return line.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    func submitted(_ server: Clearanced, in directory: URL) async throws -> String {
        let file = directory.appendingPathComponent("consignment.json")
        try Data(Self.submission.utf8).write(to: file)
        let run = try await server.lanectl(["submit", file.path], token: server.shipper)
        #expect(run.status == 0, "\(run)")
        return try #require(field("CCRN", in: run.stdout))
    }

    @Test func submitBundleEnquireAndDebundle() async throws {
        let server = try await Clearanced()
        defer { server.stop() }
        let directory = try Tool.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }

        let file = directory.appendingPathComponent("consignment.json")
        try Data(Self.submission.utf8).write(to: file)
        let submit = try await server.lanectl(["submit", file.path], token: server.shipper)
        #expect(submit.status == 0, "\(submit)")
        let ccrn = try #require(field("CCRN", in: submit.stdout))
        #expect(ccrn.count == 10 && ccrn.allSatisfy(\.isNumber))
        #expect(field("status", in: submit.stdout) == "active")
        #expect(field("valid until", in: submit.stdout) == "2026-12-10")
        #expect(field("direction", in: submit.stdout) == "import, expected 2026-11-28")
        #expect(field("consignee", in: submit.stdout) == "Winning Co Ltd (HK)")
        #expect(field("goods", in: submit.stdout) == "1 item: plastic widgets")
        #expect(field("submitted", in: submit.stdout) == "2026-11-26 09:00:00 by test-shipper")

        let bundle = try await server.lanectl(
            ["bundle", "--vrn", "VRN 0912", "--direction", "import", "--driver", "Ho Kin", ccrn],
            token: server.driver)
        #expect(bundle.status == 0, "\(bundle)")
        let ubr = try #require(field("UBR", in: bundle.stdout))
        #expect(field("vehicle", in: bundle.stdout) == "VRN0912, import")
        #expect(field("driver", in: bundle.stdout) == "Ho Kin (account test-driver)")
        #expect(field("CCRNs", in: bundle.stdout) == ccrn)
        #expect(field("completed", in: bundle.stdout) == "2026-11-26 09:00:00")
        #expect(field("may cross from", in: bundle.stdout) == "2026-11-26 09:30:00")

        let byVRN = try await server.lanectl(["enquire", "vrn", "vrn 0912"], token: server.officer)
        #expect(byVRN.status == 0, "\(byVRN)")
        #expect(
            byVRN.stdout == """
                UBR         STATUS  DIRECTION  COMPLETED            MAY CROSS FROM       CCRNS
                \(ubr)  active  import     2026-11-26 09:00:00  2026-11-26 09:30:00  \(ccrn)

                """)

        let json = try await server.lanectl(["enquire", "ubr", ubr, "--json"], token: server.driver)
        #expect(json.status == 0, "\(json)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["ubr"] as? String == ubr)
        #expect(object["earliestCrossing"] as? String == "2026-11-26T09:30:00+08:00")

        let consignment = try await server.lanectl(["enquire", "ccrn", ccrn], token: server.shipper)
        #expect(consignment.status == 0, "\(consignment)")
        #expect(field("status", in: consignment.stdout) == "bundled")
        #expect(field("bundled in", in: consignment.stdout) == "UBR \(ubr)")

        let debundle = try await server.lanectl(["debundle", ubr], token: server.driver)
        #expect(debundle.status == 0, "\(debundle)")
        #expect(field("status", in: debundle.stdout) == "debundled")
        #expect(field("ended", in: debundle.stdout) == "2026-11-26 09:00:00")

        let again = try await server.lanectl(["debundle", ubr], token: server.driver)
        #expect(again.status == 1, "\(again)")
        #expect(
            again.stderr.hasPrefix(
                "lanectl: clearanced refused POST /v1/bundles/\(ubr)/debundle: 409 conflict"))

        let none = try await server.lanectl(["enquire", "vrn", "ZZ 1"], token: server.officer)
        #expect(none.stdout == "no bundles for ZZ 1\n")
    }

    @Test func problemsPrintEveryIssueWithItsFieldAndRule() async throws {
        let server = try await Clearanced()
        defer { server.stop() }
        let directory = try Tool.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ccrn = try await submitted(server, in: directory)
        // The last digit is a Luhn check digit: any other value breaks it.
        let mistyped = String(ccrn.dropLast()) + String((Int(String(ccrn.last!))! + 1) % 10)

        let run = try await server.lanectl(
            ["bundle", "--vrn", "VRN0912", "--direction", "import", "--driver", "Ho Kin", ccrn, mistyped],
            token: server.driver)
        #expect(run.status == 1, "\(run)")
        let lines = run.stderr.split(separator: "\n")
        #expect(
            lines.first
                == "lanectl: clearanced refused POST /v1/bundles: 422 validation, The request breaks one or more rules"
        )
        #expect(
            lines.dropFirst().contains { $0.hasPrefix("  ccrns[1]: ") && $0.hasSuffix("[ccrn.check-digit]") })
        #expect(run.stdout.isEmpty)

        let wrongRole = try await server.lanectl(["enquire", "vrn", "VRN0912"], token: server.shipper)
        #expect(wrongRole.status == 77, "\(wrongRole)")
        #expect(wrongRole.stderr.hasPrefix("lanectl: clearanced refused GET /v1/bundles: 403 forbidden"))

        let badToken = try await server.lanectl(["enquire", "ccrn", ccrn], token: "not-a-token")
        #expect(badToken.status == 77, "\(badToken)")
        #expect(badToken.stderr.contains("401"))
        #expect(badToken.stderr.contains("check the token (--token-file or LANEKIOSK_TOKEN)"))

        // A token file works as the variable does; surrounding whitespace is ignored.
        let tokenFile = directory.appendingPathComponent("officer.token")
        try Data("\(server.officer)\n".utf8).write(to: tokenFile)
        let fromFile = try await Tool.lanectl(
            ["enquire", "ccrn", ccrn, "--server", server.url, "--token-file", tokenFile.path])
        #expect(fromFile.status == 0, "\(fromFile)")
    }

    @Test func aBatchPrintsARowPerRecordAndExitsOneIfAnyIsRefused() async throws {
        let server = try await Clearanced()
        defer { server.stop() }
        let directory = try Tool.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        func record(_ date: String, _ reference: String) -> String {
            """
              <consignment>
                <direction>import</direction>
                <expectedDate>\(date)</expectedDate>
                <consignor><name>Cheng Wing Company</name><countryCode>CN</countryCode><addressLine>18 Shennan Road</addressLine></consignor>
                <consignee><name>Wilson Development Limited</name><countryCode>HK</countryCode><addressLine>88 Container Port Road</addressLine></consignee>
                <goodsItem><description>Copper Button</description><bulk/><grossWeight unit="KGM">550</grossWeight></goodsItem>
                <senderReference>\(reference)</senderReference>
              </consignment>
            """
        }
        let file = directory.appendingPathComponent("batch.xml")
        try Data(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <consignmentBatch xmlns="urn:lanekiosk:consignment-batch:1" version="1">
            \(record("2026-11-28", "PO-1"))
            \(record("2009-11-07", "PO-2"))
            </consignmentBatch>
            """.utf8
        ).write(to: file)
        let run = try await server.lanectl(["submit", file.path], token: server.shipper)
        #expect(run.status == 1, "\(run)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(run)")
        #expect(lines[0] == "#  REFERENCE  OUTCOME   CCRN        VALID UNTIL")
        #expect(lines[1].hasPrefix("1  PO-1       accepted  ") && lines[1].hasSuffix("  2026-12-10"))
        #expect(lines[2] == "2  PO-2       refused")
        #expect(lines[3].hasPrefix("    expectedDate: ") && lines[3].hasSuffix("[submission.window]"))
        #expect(lines[4] == "2 records: 1 accepted, 1 refused")
        #expect(run.stderr == "lanectl: 1 of 2 records in \(file.path) refused\n")
    }

    @Test func badInputStopsBeforeAnythingIsSent() async throws {
        let directory = try Tool.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = ["LANEKIOSK_TOKEN": "unused"]
        // Nothing listens on port 9: any request sent would fail with 69, not these.
        let server = ["--server", "http://127.0.0.1:9"]

        let missing = try await Tool.lanectl(["submit", "/tmp/lctl-none.json"] + server, environment: token)
        #expect(missing.status == 66)
        #expect(missing.stderr == "lanectl: cannot read /tmp/lctl-none.json: no such file\n")

        let broken = directory.appendingPathComponent("broken.json")
        try Data("{\"direction\": \"import\",".utf8).write(to: broken)
        let notJSON = try await Tool.lanectl(["submit", broken.path] + server, environment: token)
        #expect(notJSON.status == 65)
        #expect(notJSON.stderr.hasPrefix("lanectl: \(broken.path) is not valid JSON"))

        let text = directory.appendingPathComponent("notes.txt")
        try Data("hello".utf8).write(to: text)
        let neither = try await Tool.lanectl(["submit", text.path] + server, environment: token)
        #expect(neither.status == 65)
        #expect(neither.stderr.contains("neither a JSON consignment"))

        let shortUBR = try await Tool.lanectl(["debundle", "12345"] + server, environment: token)
        #expect(shortUBR.status == 64)
        #expect(shortUBR.stderr.contains("UBR 12345: a UBR is 10 digits"))

        let noToken = try await Tool.lanectl(["enquire", "vrn", "AB1"] + server)
        #expect(noToken.status == 64)
        #expect(noToken.stderr.contains("no API token: pass --token-file FILE or set LANEKIOSK_TOKEN"))

        let unreachable = try await Tool.lanectl(["enquire", "vrn", "AB1"] + server, environment: token)
        #expect(unreachable.status == 69)
        #expect(unreachable.stderr.hasPrefix("lanectl: cannot reach clearanced at http://127.0.0.1:9"))
    }
}
