import BoardLayout
import CargoStore
import Central
import Foundation
import Hummingbird
import HummingbirdTesting
import RoadCargo
import Testing

/// Central's text limits count UTF-8 bytes as well as characters: a
/// combining-mark flood within a character limit is refused, naming the
/// field and both limits.
@Suite struct ByteLimitTests {
    /// `count` characters of `bytes` bytes each: a letter and combining acute accents.
    static func flood(_ count: Int, bytesEach: Int) -> String {
        String(repeating: "x" + String(repeating: "\u{301}", count: (bytesEach - 1) / 2), count: count)
    }

    @Test func aDriverNameFloodIsRefusedWithBothLimits() async throws {
        let h = try await Harness()
        let name = Self.flood(70, bytesEach: 99)
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/bundles", method: .post, headers: h.auth("driver"),
                body: buffer([
                    "driverName": name, "vrn": "AB123", "direction": "import", "ccrns": ["x"],
                ])
            ) { r throws in
                #expect(r.status == .unprocessableContent)
                let errors = try object(r)["errors"] as? [[String: Any]] ?? []
                let found = errors.first { $0["field"] as? String == "driverName" }
                let issue = try #require(found, "no driverName issue in \(errors)")
                #expect(issue["rule"] as? String == "text.length")
                #expect(
                    issue["detail"] as? String
                        == "must have 1 to 70 characters and at most 280 bytes of UTF-8; has 3500 characters and 6930 bytes",
                    "\(issue)")
            }
        }
    }

    /// An officer's free text to the AIOP and an override reason are counted
    /// in characters a reader sees, so bytes are what stops a flood.
    @Test func anOfficersFreeTextFloodIsRefused() throws {
        let lane = try LaneID("LMC-IN-01")
        let officer = Account(name: "chan", role: .officer)
        let call = HelpCallRecord(
            id: 1, lane: lane, controlPoint: .lokMaChau, laneCallID: 1, state: .answered, officer: "chan",
            rangAt: Date(timeIntervalSince1970: 0))
        let phrase = try #require(OfficerPhrase.all.first?.id)
        let cases: [(String, Bool)] = [
            (String(repeating: "x", count: 80), true),
            (String(repeating: "關", count: 80), true),
            (String(repeating: "x", count: 81), false),
            (Self.flood(80, bytesEach: 101), false),
        ]
        for (text, allowed) in cases {
            do {
                _ = try call.applying(.message(by: officer, phraseID: phrase, text: text), at: Date())
                #expect(allowed, "\(text.utf8.count) bytes were let in")
            } catch {
                #expect(!allowed, "\(error)")
                #expect(
                    error.detail.hasPrefix(
                        "the free text is one line of at most 80 characters and 320 bytes of UTF-8"),
                    "\(error.detail)")
            }
        }
    }
}
