import Foundation
import RoadCargo
import Testing

@Suite("Hong Kong time and calendar days")
struct TimeTests {
    /// 2009-10-24T22:56:44+08:00, worked out independently of the code under test.
    static let bundledAt = Date(timeIntervalSince1970: 1_256_396_204)

    @Test("formats in Hong Kong time with offset, whatever the host's zone")
    func formatting() {
        #expect(HongKongTime.iso8601(Self.bundledAt) == "2009-10-24T22:56:44+08:00")
        #expect(HongKongTime.displayString(Self.bundledAt) == "2009-10-24 22:56:44")
        // Fractions are dropped, never rounded up into the next second.
        #expect(HongKongTime.iso8601(Self.bundledAt.addingTimeInterval(0.999)) == "2009-10-24T22:56:44+08:00")
        #expect(HongKongTime.iso8601(Date(timeIntervalSince1970: -0.5)) == "1970-01-01T07:59:59+08:00")
    }

    @Test(
        "parses any explicit offset to the same instant",
        arguments: [
            "2009-10-24T22:56:44+08:00",
            "2009-10-24T14:56:44Z",
            "2009-10-24T14:56:44+00:00",
            "2009-10-24T09:56:44-05:00",
            "2009-10-24T22:56:44.000+08:00",
        ])
    func parsing(raw: String) throws {
        #expect(try HongKongTime.parse(raw) == Self.bundledAt)
    }

    @Test(
        "refuses times without an offset and other junk",
        arguments: ["2009-10-24T22:56:44", "2009-10-24 22:56:44", "2009-10-24", "", "yesterday"])
    func refusesAmbiguous(raw: String) {
        do {
            _ = try HongKongTime.parse(raw)
            Issue.record("\(raw) was accepted")
        } catch {
            #expect(error.issues.map(\.rule) == ["time.format"])
        }
    }

    @Test("the Hong Kong day changes at 16:00 UTC, not at UTC midnight")
    func dayBoundary() throws {
        let lastSecond = try HongKongTime.parse("2009-11-16T15:59:59Z")
        let nextDay = try HongKongTime.parse("2009-11-16T16:00:00Z")
        #expect(CalendarDay(containing: lastSecond).description == "2009-11-16")
        #expect(CalendarDay(containing: nextDay).description == "2009-11-17")
        // Just after UTC midnight it has long been the same HK day.
        #expect(
            CalendarDay(containing: try HongKongTime.parse("2009-11-17T00:00:01Z")).description
                == "2009-11-17")
        let day = try CalendarDay("2009-11-16")
        #expect(day.daysSinceEpoch == 14564)
        #expect(day.start == (try HongKongTime.parse("2009-11-15T16:00:00Z")))
        #expect(day.end == nextDay)
        #expect(HongKongTime.iso8601(day.start) == "2009-11-16T00:00:00+08:00")
    }

    @Test("the process's own time zone plays no part")
    func hostZoneIrrelevant() {
        // The test process runs in UTC; the answers above are HK answers, and
        // an instant before 16:00Z on a UTC day is the *next* HK day only after it.
        #expect(CalendarDay(containing: Date(timeIntervalSince1970: 57_599)).description == "1970-01-01")
        #expect(CalendarDay(containing: Date(timeIntervalSince1970: 57_600)).description == "1970-01-02")
        #expect(CalendarDay(containing: Date(timeIntervalSince1970: -28_800)).description == "1970-01-01")
        #expect(CalendarDay(containing: Date(timeIntervalSince1970: -28_801)).description == "1969-12-31")
    }

    @Test(
        "leap days and impossible dates",
        arguments: [
            ("2024-02-29", true), ("2000-02-29", true), ("2023-02-29", false), ("1900-02-29", false),
            ("2100-02-29", false), ("2009-04-31", false), ("2009-12-31", true), ("2009-13-01", false),
            ("2009-00-10", false), ("2009-01-00", false),
        ])
    func leapDays(raw: String, valid: Bool) {
        let parsed = try? CalendarDay(raw)
        #expect((parsed != nil) == valid)
        if let parsed { #expect(parsed.description == raw) }
    }

    @Test(
        "refuses malformed dates",
        arguments: ["2009-1-05", "09-11-16", "2009/11/16", "2009-+1-05", "2009-11-16T00", ""])
    func malformed(raw: String) {
        #expect(throws: ValidationFailure.self) { try CalendarDay(raw) }
    }

    @Test("day arithmetic crosses month, year and leap-day boundaries")
    func arithmetic() throws {
        #expect(try CalendarDay("2009-11-02").advanced(by: 14).description == "2009-11-16")
        #expect(try CalendarDay("2009-12-25").advanced(by: 14).description == "2010-01-08")
        #expect(try CalendarDay("2024-02-20").advanced(by: 14).description == "2024-03-05")
        #expect(try CalendarDay("2023-02-20").advanced(by: 14).description == "2023-03-06")
        #expect(try CalendarDay("2009-10-24").distance(to: CalendarDay("2009-11-16")) == 23)
    }

    @Test("every day from 1970 to 2100 formats and parses back to itself")
    func everyDay() throws {
        let first = try CalendarDay("1970-01-01")
        let last = try CalendarDay("2100-12-31")
        var mismatches: [CalendarDay] = []
        for day in stride(from: first, through: last, by: 1) {
            let (y, m, d) = day.components
            if (try? CalendarDay(day.description)) != day
                || (try? CalendarDay(year: y, month: m, day: d)) != day
            {
                mismatches.append(day)
            }
        }
        #expect(mismatches.isEmpty)
        #expect(first.distance(to: last) == 47_846)
    }

    @Test("a simulated clock stands still until moved")
    func simulatedClock() {
        let clock = SimulatedWallClock(Self.bundledAt)
        #expect(clock.now() == Self.bundledAt)
        clock.advance(by: 30 * 60)
        #expect(HongKongTime.iso8601(clock.now()) == "2009-10-24T23:26:44+08:00")
        clock.set(Self.bundledAt)
        #expect(clock.now() == Self.bundledAt)
    }
}
