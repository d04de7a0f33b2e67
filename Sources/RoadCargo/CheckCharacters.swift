/// The ISO 6346 check digit of a freight container number, e.g. `CSQU3054383`:
/// a three-letter owner code, a category letter, a six-digit serial number and
/// one check digit.
///
/// A consignment names its container so that officers can match it with the
/// box on the truck; a mistyped number would send them to the wrong box, so
/// the check digit is verified before the consignment is accepted.
public enum ISO6346 {
    /// The numeric value of a letter: A = 10 upwards, skipping 11, 22 and 33,
    /// the multiples of 11, so that no letter weighs the same as the modulus.
    static func letterValue(_ letter: Unicode.Scalar) -> Int? {
        guard ("A"..."Z").contains(letter) else { return nil }
        var v = 10
        var ch = Unicode.Scalar("A")
        while ch != letter {
            v += 1
            if v % 11 == 0 { v += 1 }
            ch = Unicode.Scalar(ch.value + 1)!
        }
        return v
    }

    /// The check digit for the first ten characters (four upper-case letters,
    /// six digits), or nil when they do not have that shape.
    public static func checkDigit(for ownerCategoryAndSerial: String) -> Int? {
        let scalars = Array(ownerCategoryAndSerial.unicodeScalars)
        guard scalars.count == 10 else { return nil }
        var sum = 0
        for (i, s) in scalars.enumerated() {
            let value: Int
            if i < 4 {
                guard let v = letterValue(s) else { return nil }
                value = v
            } else {
                guard ("0"..."9").contains(s) else { return nil }
                value = Int(s.value) - 48
            }
            sum += value << i
        }
        // A remainder of 10 gives check digit 0 (ISO 6346 advises owners not
        // to issue such serials, but they exist).
        return sum % 11 % 10
    }

    /// Whether `number` is four upper-case letters and seven digits (no
    /// spaces) whose last digit is its check digit.
    public static func isValid(_ number: String) -> Bool {
        let scalars = Array(number.unicodeScalars)
        guard scalars.count == 11, let last = scalars.last, ("0"..."9").contains(last),
            let check = checkDigit(for: String(String.UnicodeScalarView(scalars.prefix(10))))
        else { return false }
        return check == Int(last.value) - 48
    }
}

/// The check character of a Hong Kong identity card number, e.g. `A123456(3)`:
/// one or two letters, six digits and a check character 0-9 or A.
///
/// Only the check character is verified; whether the card exists is for the
/// Immigration Department, not for a cargo system.
public enum HKIDCheck {
    /// The check character for a prefix of one or two upper-case letters and
    /// six digits, or nil when the input does not have that shape.
    ///
    /// Each character is weighted by its position from the right (2 to 9; a
    /// one-letter prefix counts as a space, value 36, in position 9), the sum
    /// is taken mod 11, and 11 minus it is the check value, 10 written `A`.
    public static func checkCharacter(for body: String) -> Character? {
        let scalars = Array(body.unicodeScalars)
        guard scalars.count == 7 || scalars.count == 8 else { return nil }
        let letterCount = scalars.count - 6
        guard scalars.prefix(letterCount).allSatisfy({ ("A"..."Z").contains($0) }),
            scalars.suffix(6).allSatisfy({ ("0"..."9").contains($0) })
        else { return nil }
        var values: [Int] = []
        if letterCount == 1 { values.append(36) }
        for s in scalars.prefix(letterCount) { values.append(Int(s.value) - 55) }
        for s in scalars.suffix(6) { values.append(Int(s.value) - 48) }
        var sum = 0
        for (i, v) in values.enumerated() { sum += v * (9 - i) }
        let check = (11 - sum % 11) % 11
        return check == 10 ? "A" : Character(String(check))
    }

    /// Whether `raw` is an HKID number written as on the card, `A123456(3)`,
    /// or without the brackets, `A1234563`; letters upper-case, no spaces.
    public static func isWellFormed(_ raw: String) -> Bool { split(raw) != nil }

    /// Whether `raw` is well formed and its check character is right.
    public static func isValid(_ raw: String) -> Bool {
        guard let (body, check) = split(raw) else { return false }
        return checkCharacter(for: body) == check
    }

    /// Splits `A123456(3)` or `A1234563` into `A123456` and `3`.
    static func split(_ raw: String) -> (body: String, check: Character)? {
        var s = raw
        if s.hasSuffix(")") {
            s.removeLast()
            guard let last = s.popLast(), s.popLast() == "(" else { return nil }
            s.append(last)
        }
        guard let check = s.popLast(), check == "A" || (check.isASCII && check.isNumber) else { return nil }
        guard checkCharacter(for: s) != nil else { return nil }
        return (s, check)
    }
}
