import Foundation
import RoadCargo

extension BatchXML {
    // MARK: Lexical checks shared with the XSD's simple types

    /// XSD `CountryCode`: `[A-Z]{2}`.
    static func isCountryCode(_ s: String) -> Bool {
        s.utf8.count == 2 && s.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    /// XSD `UnitCode`: `[A-Z0-9]{2,3}`.
    static func isUnitCode(_ s: String) -> Bool {
        (2...3).contains(s.utf8.count)
            && s.utf8.allSatisfy {
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            }
    }

    /// XSD `PackageCount`: `xs:positiveInteger`, at most 999 999 999.
    static func count(_ s: String) -> Int? {
        var digits = Substring(s)
        if digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty,
            digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        let significant = digits.drop(while: { $0 == "0" })
        guard significant.count <= 9, let n = Int(significant), n >= 1 else { return nil }
        return n
    }

    /// XSD `MeasureValue`: the `xs:decimal` lexical space (no exponent, no
    /// NaN or INF), greater than 0, at most 999 999 999 999.
    static func measureValue(_ s: String) -> Double? {
        var body = Substring(s)
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let isDigits = { (p: Substring) in
            p.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }
        guard !body.isEmpty, parts.allSatisfy(isDigits), parts.contains(where: { !$0.isEmpty }) else {
            return nil
        }
        guard let value = Double(s.hasSuffix(".") ? s + "0" : s), value.isFinite, value > 0,
            value <= maximumMeasure
        else { return nil }
        return value
    }
}
