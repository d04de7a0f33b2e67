import RoadCargo
import Testing

/// A limit counts UTF-8 bytes as well as characters: a character may hold
/// any number of combining marks.
@Suite struct TextLimitTests {
    /// One character of 600 bytes: "a" and 299 combining acute accents (2 bytes each).
    static let heavy = "a" + String(repeating: "\u{301}", count: 299) + "b"

    @Test func bothCountsAreKept() {
        let name = TextLimit(characters: 70)
        let flood = String(repeating: "a" + String(repeating: "\u{301}", count: 300), count: 70)
        let cases: [(String, TextLimit, Bool)] = [
            (String(repeating: "W", count: 70), name, true),
            (String(repeating: "W", count: 71), name, false),
            // Chinese: three bytes a character, 70 of them fit.
            (String(repeating: "關", count: 70), name, true),
            // Emoji with modifiers: one character, up to 4 bytes a scalar.
            (String(repeating: "👍🏽", count: 35), name, true),
            // The combining-mark flood: 70 characters of 601 bytes each.
            (flood, name, false),
            (Self.heavy, TextLimit(characters: 2), false),
            (Self.heavy, TextLimit(characters: 2, bytes: 602), true),
            // Scalars, as JSON Schema counts: the accents count one each.
            (Self.heavy, TextLimit(characters: 300, bytes: 2000, unit: .scalars), false),
            (Self.heavy, TextLimit(characters: 301, bytes: 2000, unit: .scalars), true),
        ]
        for (text, limit, allowed) in cases {
            #expect(limit.allows(text) == allowed, "\(limit) on \(text.utf8.count) bytes")
        }
    }

    @Test func theMessageGivesBothLimitsAndBothCounts() {
        // "é" (2 bytes) and 299 accents: 600 bytes a character.
        let flood = String(repeating: "\u{E9}" + String(repeating: "\u{301}", count: 299), count: 70)
        let name = TextLimit(characters: 70)
        #expect(name.description == "at most 70 characters and 280 bytes of UTF-8")
        #expect(name.measured(flood) == "has 70 characters and 42000 bytes")
    }
}
