import RoadCargo
import Testing

@Suite("VRN")
struct VRNTests {
    @Test(
        "normalises what a driver or reader types",
        arguments: [
            ("  vrn 0912 ", "VRN0912"),
            ("VRN0912", "VRN0912"),
            ("ab 1234", "AB1234"),
            ("fv\t8888", "FV8888"),
            ("a\u{00A0}1", "A1"),
            ("HK\u{3000}1", "HK1"),
            ("1", "1"),
            ("ABCD1234", "ABCD1234"),
        ])
    func normalises(raw: String, expected: String) throws {
        #expect(try VRN(raw).value == expected)
    }

    @Test(
        "refuses with a rule code",
        arguments: [
            ("", "vrn.empty"),
            ("   ", "vrn.empty"),
            ("ABCDE1234", "vrn.length"),
            ("AB 1234 567", "vrn.length"),
            ("AB-1234", "vrn.characters"),
            ("AB.12", "vrn.characters"),
            ("AB\n12", "vrn.characters"),
            ("ÄB12", "vrn.characters"),
            ("ＡＢ12", "vrn.characters"),  // full-width letters are not silently folded
        ])
    func refuses(raw: String, rule: String) {
        #expect(throws: ValidationFailure.self) { try VRN(raw) }
        do {
            _ = try VRN(raw)
        } catch {
            #expect(error.issues.map(\.rule) == [rule])
        }
    }

    @Test("never maps lookalike characters: two plates stay two vehicles")
    func noLookalikeMapping() throws {
        let pairs = [("AI1234", "A11234"), ("OK10", "0K10"), ("B8", "88"), ("ZZ2", "222"), ("SO5", "505")]
        for (a, b) in pairs {
            let va = try VRN(a)
            let vb = try VRN(b)
            #expect(va != vb, "\(a) and \(b) are different vehicles")
            #expect(va.value == a)
            #expect(vb.value == b)
            #expect(va.lookalikeKey == vb.lookalikeKey, "\(a) and \(b) deserve an officer's look")
        }
        #expect(try VRN("AB12").lookalikeKey != VRN("AC12").lookalikeKey)
    }

    @Test("normalisation is idempotent over every single character")
    func idempotent() throws {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for ch in alphabet {
            let v = try VRN("x \(ch) 1")
            #expect(try VRN(v.value) == v)
            #expect(v.value.count == 3)
        }
    }
}
