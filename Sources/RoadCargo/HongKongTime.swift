import Foundation

/// Hong Kong time: UTC+8 all year, no daylight saving. Every time at an edge
/// of the system (API, display, journal export) is shown in it, whatever the
/// host's own time zone.
public enum HongKongTime {
    public static let offsetSeconds = 8 * 3600
    public static let timeZone = TimeZone(secondsFromGMT: offsetSeconds)!

    public static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = timeZone
        return c
    }()

    /// `2009-10-24T22:56:44+08:00`; fractional seconds are dropped.
    public static func iso8601(_ date: Date) -> String {
        let local = Int64(floor(date.timeIntervalSince1970)) + Int64(offsetSeconds)
        let day = CalendarDay(daysSinceEpoch: Int(floorDiv(local, 86_400)))
        let secs = Int(local - floorDiv(local, 86_400) * 86_400)
        let time = "\(pad2(secs / 3600)):\(pad2(secs / 60 % 60)):\(pad2(secs % 60))"
        return "\(day)T\(time)+08:00"
    }

    /// `2009-10-24 22:56:44`, as the briefing prints times for drivers.
    public static func displayString(_ date: Date) -> String {
        let s = iso8601(date)
        return s.prefix(10) + " " + s.dropFirst(11).prefix(8)
    }

    /// Parses ISO 8601 with an explicit offset (`Z` or `+hh:mm`); a time
    /// without an offset is refused because it is ambiguous.
    public static func parse(_ raw: String) throws(ValidationFailure) -> Date {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: raw) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: raw) { return d }
        throw ValidationFailure(
            field: "", rule: "time.format",
            detail: "expected an ISO 8601 time with offset, e.g. 2009-10-24T22:56:44+08:00; got \"\(raw)\"")
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    private static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}

/// A Hong Kong calendar day, e.g. 2009-11-16. Ordering and arithmetic are by
/// whole days, so "the submission day + 14 days" is exact whatever the host's
/// time zone is.
public struct CalendarDay: Sendable, Hashable, ValidatedStringCodable, Comparable, CustomStringConvertible,
    Strideable
{
    /// Days since 1970-01-01.
    public let daysSinceEpoch: Int

    public init(daysSinceEpoch: Int) { self.daysSinceEpoch = daysSinceEpoch }

    /// The Hong Kong day on which `date` falls.
    public init(containing date: Date) {
        let local = Int64(floor(date.timeIntervalSince1970)) + Int64(HongKongTime.offsetSeconds)
        self.init(daysSinceEpoch: Int(HongKongTime.floorDiv(local, 86_400)))
    }

    public init(year: Int, month: Int, day: Int) throws(ValidationFailure) {
        guard (1...12).contains(month), (1...31).contains(day), (1900...9999).contains(year) else {
            throw ValidationFailure(
                field: "", rule: "date.range", detail: "\(year)-\(month)-\(day) is not a calendar date")
        }
        let candidate = CalendarDay(daysSinceEpoch: Self.days(year: year, month: month, day: day))
        guard candidate.components == (year, month, day) else {
            throw ValidationFailure(
                field: "", rule: "date.range", detail: "\(year)-\(month)-\(day) is not a calendar date")
        }
        self = candidate
    }

    /// Parses `YYYY-MM-DD`.
    public init(_ raw: String) throws(ValidationFailure) {
        let parts = raw.split(separator: "-", omittingEmptySubsequences: false)
        // Int("+1") is 1: insist on ASCII digits so that "2009-+1-05" is refused.
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else {
            throw ValidationFailure(
                field: "", rule: "date.format", detail: "expected a date as YYYY-MM-DD; got \"\(raw)\"")
        }
        try self.init(year: y, month: m, day: d)
    }

    /// The first instant of this day in Hong Kong.
    public var start: Date {
        Date(
            timeIntervalSince1970: TimeInterval(
                Int64(daysSinceEpoch) * 86_400 - Int64(HongKongTime.offsetSeconds)))
    }

    /// The first instant of the next day: "valid until the end of this day"
    /// means valid at every instant strictly before it.
    public var end: Date { advanced(by: 1).start }

    public var components: (year: Int, month: Int, day: Int) {
        // Howard Hinnant's civil_from_days.
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func days(year: Int, month: Int, day: Int) -> Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public var description: String {
        let (y, m, d) = components
        return String(y).leftPadded(to: 4) + "-" + String(m).leftPadded(to: 2) + "-"
            + String(d).leftPadded(to: 2)
    }

    public var canonicalString: String { description }

    public static func < (a: CalendarDay, b: CalendarDay) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }
    public func advanced(by n: Int) -> CalendarDay { CalendarDay(daysSinceEpoch: daysSinceEpoch + n) }
    public func distance(to other: CalendarDay) -> Int { other.daysSinceEpoch - daysSinceEpoch }

}
