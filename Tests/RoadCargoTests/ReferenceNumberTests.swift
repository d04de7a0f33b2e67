import RoadCargo
import Testing

@Suite("CCRN and UBR check digits")
struct ReferenceNumberTests {
    /// Our check digit is our own design (Luhn); the briefing's numbers were
    /// made by the real system's. Two of them pass Luhn by chance, one not.
    @Test("the briefing's sample numbers")
    func briefingNumbers() throws {
        #expect(try CCRN("2001067889").value == "2001067889")
        #expect(try CCRN("1001064326").value == "1001064326")
        #expect(throws: ValidationFailure.self) { try UBR("1001014161") }
    }

    @Test(
        "refuses malformed input with a rule code",
        arguments: [
            ("", "ccrn.length"),
            ("123456789", "ccrn.length"),
            ("12345678901", "ccrn.length"),
            ("20010678A9", "ccrn.digits"),
            ("2001O67889", "ccrn.digits"),
            ("٢٠٠١٠٦٧٨٨٩", "ccrn.digits"),  // Arabic-Indic digits are not ASCII
            ("2001067888", "ccrn.check-digit"),
        ])
    func refuses(raw: String, rule: String) {
        do {
            _ = try CCRN(raw)
            Issue.record("\(raw) was accepted")
        } catch {
            #expect(error.issues.map(\.rule) == [rule])
        }
    }

    @Test("UBR rules carry its own prefix")
    func ubrPrefix() {
        do {
            _ = try UBR("1001014161")
            Issue.record("accepted")
        } catch {
            #expect(error.issues.first?.rule == "ubr.check-digit")
        }
    }

    @Test("spaces and dashes as people write them are ignored")
    func separators() throws {
        #expect(try CCRN("200 106 7889").value == "2001067889")
        #expect(try CCRN("2001-067-889").value == "2001067889")
    }

    /// Payloads spread over the whole 9-digit range, reproducibly.
    static let payloads: [UInt64] = (0..<300).map { i in (UInt64(i) &* 2_654_435_761) % 1_000_000_000 }

    @Test("init(payload:) round trips through parsing", arguments: payloads)
    func roundTrip(payload: UInt64) throws {
        let c = CCRN(payload: payload)
        #expect(c.value.count == 10)
        #expect(try CCRN(c.value) == c)
        #expect(UInt64(c.value.prefix(9)) == payload)
        let u = UBR(payload: payload)
        #expect(try UBR(u.value) == u)
    }

    @Test("every single-digit substitution of a valid reference is refused")
    func singleSubstitutions() throws {
        var accepted: [String] = []
        var tried = 0
        for payload in Self.payloads {
            let valid = Array(CCRN(payload: payload).value)
            for position in valid.indices {
                for digit in "0123456789" where digit != valid[position] {
                    var typo = valid
                    typo[position] = digit
                    tried += 1
                    if (try? CCRN(String(typo))) != nil { accepted.append(String(typo)) }
                }
            }
        }
        #expect(tried == Self.payloads.count * 10 * 9)
        #expect(accepted.isEmpty)
    }

    /// Luhn misses only the swap 0<->9 ("09" and "90" weigh the same), so over
    /// many references almost every swap of two different adjacent digits is refused.
    @Test("adjacent swaps are mostly refused")
    func adjacentSwaps() throws {
        var swaps = 0
        var caught = 0
        for payload in Self.payloads {
            let valid = Array(CCRN(payload: payload).value)
            for i in 0..<(valid.count - 1) where valid[i] != valid[i + 1] {
                var typo = valid
                typo.swapAt(i, i + 1)
                swaps += 1
                let pair = Set([valid[i], valid[i + 1]])
                do {
                    _ = try CCRN(String(typo))
                    #expect(pair == ["0", "9"], "only a 0/9 swap may slip through: \(String(typo))")
                } catch {
                    caught += 1
                }
            }
        }
        #expect(swaps > 2000)
        #expect(Double(caught) / Double(swaps) > 0.95)
    }

    @Test("ordering is by value, so lists sort as people read them")
    func ordering() {
        #expect(CCRN(payload: 1) < CCRN(payload: 2))
        #expect(CCRN(payload: 99) < CCRN(payload: 100))
    }
}
