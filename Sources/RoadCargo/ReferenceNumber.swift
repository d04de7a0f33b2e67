/// The Luhn (mod 10) check digit used by CCRN and UBR.
///
/// Luhn catches every single mistyped digit and most swaps of adjacent
/// digits, which is what a driver copying a number from paper gets wrong.
public enum Luhn {
    /// The check digit to append to `payload` (digits only).
    public static func checkDigit(for payload: some Collection<UInt8>) -> UInt8 {
        var sum = 0
        // Walking from the right, the digit next to the check digit is doubled.
        for (i, d) in payload.reversed().enumerated() {
            var v = Int(d)
            if i % 2 == 0 {
                v *= 2
                if v > 9 { v -= 9 }
            }
            sum += v
        }
        return UInt8((10 - sum % 10) % 10)
    }

    public static func isValid(_ digits: [UInt8]) -> Bool {
        guard let last = digits.last else { return false }
        return checkDigit(for: digits.dropLast()) == last
    }
}

/// A 10-digit reference whose last digit is a Luhn check digit.
public protocol CheckedReference: Sendable, Hashable, ValidatedStringCodable, Comparable,
    CustomStringConvertible
{
    static var kindName: String { get }
    var value: String { get }
    init(validated: String)
}

extension CheckedReference {
    /// Parses a reference as a person typed it; spaces and dashes are ignored.
    public init(_ raw: String) throws(ValidationFailure) {
        let kind = Self.kindName
        let rulePrefix = kind.lowercased()
        let digits = raw.filter { $0 != " " && $0 != "-" }
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ValidationFailure(
                field: "", rule: "\(rulePrefix).digits", detail: "a \(kind) is 10 digits; \"\(raw)\" is not")
        }
        guard digits.count == 10 else {
            throw ValidationFailure(
                field: "", rule: "\(rulePrefix).length",
                detail: "a \(kind) is 10 digits; \"\(raw)\" has \(digits.count)")
        }
        let values = digits.map { UInt8($0.asciiValue! - 48) }
        guard Luhn.isValid(values) else {
            throw ValidationFailure(
                field: "", rule: "\(rulePrefix).check-digit",
                detail: "\(kind) \(digits) fails its check digit; a digit is probably mistyped")
        }
        self.init(validated: digits)
    }

    /// Builds a reference from a 9-digit payload, appending its check digit.
    public init(payload: UInt64) {
        precondition(payload < 1_000_000_000, "a payload has 9 digits")
        let body = String(payload).leftPadded(to: 9)
        let check = Luhn.checkDigit(for: body.map { UInt8($0.asciiValue! - 48) })
        self.init(validated: body + String(check))
    }

    public var description: String { value }
    public var canonicalString: String { value }

    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

}

/// Customs Cargo Reference Number: issued for each accepted consignment.
public struct CCRN: CheckedReference {
    public static let kindName = "CCRN"
    public let value: String
    public init(validated: String) { value = validated }
}

/// Unique Bundling Reference: issued for each completed bundle.
public struct UBR: CheckedReference {
    public static let kindName = "UBR"
    public let value: String
    public init(validated: String) { value = validated }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
