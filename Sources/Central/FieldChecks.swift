import Foundation
import RoadCargo

/// Field checks that mirror the limits the OpenAPI document declares
/// (lengths, patterns, ranges), so that the server refuses exactly what the
/// document says it refuses. Domain rules proper stay in ClearanceCore.
struct FieldChecks {
    private(set) var collector = IssueCollector()

    /// A string of `min...max` Unicode scalars (JSON Schema counts code
    /// points, not grapheme clusters) and at most four UTF-8 bytes per
    /// character of `max` (the OpenAPI document's `x-max-bytes`); `min >= 1`
    /// also refuses blank text.
    mutating func text(_ field: String, _ value: String?, min: Int = 1, max: Int) {
        guard let value else { return }
        let limit = TextLimit(characters: max, unit: .scalars)
        let n = limit.length(of: value)
        if n < min || !limit.allows(value) {
            collector.add(
                field, "text.length",
                "must have \(min) to \(max) characters and at most \(limit.bytes) bytes of UTF-8; \(limit.measured(value))"
            )
        } else if min >= 1, value.allSatisfy(\.isWhitespace) {
            collector.add(field, "text.blank", "must not be blank")
        }
    }

    mutating func count(_ field: String, _ n: Int, min: Int, max: Int) {
        if n < min || n > max {
            collector.add(field, "items.count", "must have \(min) to \(max) items; has \(n)")
        }
    }

    mutating func range<T: Comparable & CustomStringConvertible>(_ field: String, _ v: T, _ r: ClosedRange<T>)
    {
        if !r.contains(v) {
            collector.add(
                field, "number.range", "must lie between \(r.lowerBound) and \(r.upperBound); got \(v)")
        }
    }

    /// Runs a domain parser, filing its issues under `field`.
    mutating func parse<T>(_ field: String, _ body: () throws(ValidationFailure) -> T) -> T? {
        do {
            return try body()
        } catch {
            for issue in error.issues {
                let n = issue.nested(under: field)
                collector.add(n.field, n.rule, n.detail)
            }
            return nil
        }
    }

    mutating func add(_ field: String, _ rule: String, _ detail: String) {
        collector.add(field, rule, detail)
    }

    var isEmpty: Bool { collector.issues.isEmpty }

    func throwIfAny() throws(ValidationFailure) {
        if !collector.issues.isEmpty { throw ValidationFailure(collector.issues) }
    }
}

/// Parsers for references as the API spells them: exactly ten digits, no
/// spaces or dashes (the domain forgives those for people typing; the API
/// is for programs, and its schema says `^[0-9]{10}$`).
enum APIParse {
    static func reference<R: CheckedReference>(_ type: R.Type, _ raw: String) throws(ValidationFailure) -> R {
        guard raw.utf8.count == 10, raw.utf8.allSatisfy({ (48...57).contains($0) }) else {
            let kind = R.kindName
            throw ValidationFailure(
                field: "", rule: "\(kind.lowercased()).format",
                detail: "a \(kind) is exactly 10 digits; got \"\(raw)\"")
        }
        return try R(raw)
    }

    /// VRNs: letters, digits and spaces only (tabs and other blanks the
    /// domain forgives are refused here, as the schema's pattern does).
    static func vrn(_ raw: String) throws(ValidationFailure) -> VRN {
        guard
            raw.unicodeScalars.allSatisfy({
                $0 == " " || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
            })
        else {
            throw ValidationFailure(
                field: "", rule: "vrn.characters",
                detail: "a VRN holds only letters A-Z, digits 0-9 and spaces")
        }
        return try VRN(raw)
    }

    static func direction(_ raw: String) throws(ValidationFailure) -> Direction {
        guard let d = Direction(rawValue: raw) else {
            throw ValidationFailure(
                field: "", rule: "direction.unknown",
                detail: "must be \"import\" or \"export\"; got \"\(raw)\"")
        }
        return d
    }

    static func controlPoint(_ raw: String) throws(ValidationFailure) -> ControlPoint {
        guard let cp = ControlPoint(rawValue: raw) else {
            throw ValidationFailure(
                field: "", rule: "control-point.unknown",
                detail:
                    "must be one of \(ControlPoint.allCases.map(\.rawValue).joined(separator: ", ")); got \"\(raw)\""
            )
        }
        return cp
    }

    static func day(_ raw: String) throws(ValidationFailure) -> CalendarDay { try CalendarDay(raw) }

    /// Times from 1970 to the end of 2999: outside that span a time is a
    /// typo, and responses promise four-digit years.
    static func time(_ raw: String) throws(ValidationFailure) -> Date {
        let t = try HongKongTime.parse(raw)
        guard t >= timeRange.lowerBound, t <= timeRange.upperBound else {
            throw ValidationFailure(
                field: "", rule: "time.range",
                detail: "must lie between 1970-01-01 and 2999-12-31; got \(raw)")
        }
        return t
    }

    static let timeRange = Date(timeIntervalSince1970: 0)...Date(timeIntervalSince1970: 32_503_679_999)
}

/// Runs a domain parser and files its issues under `field` (a parser names
/// no field of its own, it only knows the value).
func parsing<T>(_ field: String, _ body: () throws(ValidationFailure) -> T) throws(ValidationFailure) -> T {
    do {
        return try body()
    } catch {
        throw ValidationFailure(error.issues.map { $0.nested(under: field) })
    }
}
