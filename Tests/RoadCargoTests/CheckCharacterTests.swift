import RoadCargo
import Testing

@Suite("ISO 6346 container numbers and HKID check characters")
struct CheckCharacterTests {
    @Test(
        "known container numbers",
        arguments: [
            ("CSQU3054383", true),  // ISO 6346's own example
            ("HJLS2345217", true),  // the briefing's example passes its check digit
            ("HJLS2345218", false), ("HJLU2345217", false), ("CSQU305438", false), ("csqu3054383", false),
            ("CSQU 305438 3", false), ("", false),
        ])
    func containers(number: String, valid: Bool) {
        #expect(ISO6346.isValid(number) == valid)
    }

    @Test("exactly one check digit fits every container body")
    func oneCheckDigit() throws {
        let owners = ["CSQU", "HJLS", "MSKU", "TGHU", "ZZZZ", "AAAJ"]
        for owner in owners {
            for serial in stride(from: 0, to: 1_000_000, by: 7919) {
                let body = owner + String(serial).leftPad(6)
                let check = try #require(ISO6346.checkDigit(for: body))
                let fitting = (0...9).filter { ISO6346.isValid(body + String($0)) }
                #expect(fitting == [check])
            }
        }
    }

    @Test(
        "HKID numbers",
        arguments: [
            ("A123456(3)", true), ("A1234563", true), ("C668668(9)", true), ("AB987654(3)", true),
            ("A123456(4)", false), ("a123456(3)", false), ("A12345(3)", false), ("123456(3)", false),
            ("A123456(3", false), ("ABC123456(3)", false), ("A123456()", false),
        ])
    func hkid(raw: String, valid: Bool) {
        #expect(HKIDCheck.isValid(raw) == valid)
    }

    @Test("the check character A stands for 10")
    func checkA() {
        // Found by search so the test does not depend on a remembered number.
        let body = (0..<1000).lazy.map { "Z" + String(100_000 + $0) }.first {
            HKIDCheck.checkCharacter(for: $0) == "A"
        }
        #expect(body != nil)
        if let body {
            #expect(HKIDCheck.isValid(body + "(A)"))
            #expect(!HKIDCheck.isValid(body + "(0)"))
        }
    }

    /// Digits weigh 2 to 7 against a prime modulus, so every mistyped digit is
    /// caught. Letters run from 10 to 35, so letters 11 apart (A, L, W) weigh the
    /// same: a limit of the HKID scheme itself, not of this code.
    @Test("every single-digit substitution of an HKID is caught")
    func hkidSubstitutions() {
        let valid = "A123456"
        let check = HKIDCheck.checkCharacter(for: valid)!
        var slipped: [String] = []
        let chars = Array(valid)
        for i in chars.indices.dropFirst() {
            for ch in "0123456789" where ch != chars[i] {
                var typo = chars
                typo[i] = ch
                if HKIDCheck.isValid(String(typo) + String(check)) { slipped.append(String(typo)) }
            }
        }
        #expect(slipped.isEmpty)
        #expect(HKIDCheck.isValid("L123456(3)"))
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
