import ClearanceCore
import Foundation
import RoadCargo
import Testing

private typealias F = Fixtures

@Suite("Random selection")
struct SelectionTests {
    static let selector = Selector(SelectionSettings(key: F.key, ladenRate: 0.1, unladenRate: 0.1))

    @Test("subjects are the UBR, or the plate and the arrival second")
    func subjects() {
        #expect(Selector.subject(ubr: F.ubr(101_416)) == "UBR:1001014164")
        #expect(
            Selector.subject(vrn: F.truck, arrivedAt: F.hk("2009-10-24 23:30:00").addingTimeInterval(0.7))
                == "VRN:VRN0912@1256398200")
    }

    /// Pinned against Python's hmac module, so that a change to the subject
    /// format or to the bits read is caught: it would change every replay.
    @Test("known answers: HMAC-SHA256, first 53 bits as a fraction")
    func knownAnswers() {
        #expect(Self.selector.fraction(of: "UBR:1001014164") == Double(3_487_890_764_181_625) / 0x1p53)
        #expect(
            Self.selector.fraction(of: "VRN:VRN0912@1256398200") == Double(2_352_545_641_450_107) / 0x1p53)
    }

    @Test("the same key and subject give the same answer; another key another")
    func reproducibleAndKeyed() {
        let other = Selector(
            SelectionSettings(key: Data(repeating: 8, count: 32), ladenRate: 0.5, unladenRate: 0.5))
        var differ = 0
        var flipped = 0
        for n in UInt64(0)..<2000 {
            let subject = Selector.subject(ubr: F.ubr(n))
            #expect(Self.selector.fraction(of: subject) == Self.selector.fraction(of: subject))
            if Self.selector.fraction(of: subject) != other.fraction(of: subject) { differ += 1 }
            if Self.selector.selects(subject, rate: 0.5) != other.selects(subject, rate: 0.5) { flipped += 1 }
        }
        #expect(differ == 2000)
        // Independent keys disagree on about half the subjects at rate 0.5.
        #expect((800...1200).contains(flipped))
    }

    @Test("the measured rate over 10,000 subjects matches the configured 0.1")
    func measuredRate() {
        let subjects = (UInt64(0)..<10_000).map { Selector.subject(ubr: F.ubr($0 * 7)) }
        let picked = subjects.filter { Self.selector.selects($0, rate: 0.1) }.count
        // Binomial standard deviation is 30; 150 is five of them.
        #expect(abs(picked - 1000) < 150)
        let fractions = subjects.map { Self.selector.fraction(of: $0) }
        #expect(fractions.allSatisfy { $0 >= 0 && $0 < 1 })
    }

    @Test("the unladen subject changes with the arrival second, so a truck is not always picked")
    func unladenSubjectsVary() {
        let start = F.hk("2009-10-24 23:30:00")
        let picks = (0..<1000).map {
            Self.selector.selects(
                Selector.subject(vrn: F.truck, arrivedAt: start.addingTimeInterval(Double($0 * 61))),
                rate: 0.5)
        }
        #expect((400...600).contains(picks.filter { $0 }.count))
    }

    @Test("rates 0 and 1 are never and always", arguments: [0.0, 1.0])
    func extremes(rate: Double) {
        for n in UInt64(0)..<1000 {
            #expect(Self.selector.selects(Selector.subject(ubr: F.ubr(n)), rate: rate) == (rate == 1))
        }
    }

    @Test(
        "settings are checked before use",
        arguments: [
            (Data(count: 15), 0.1, 0.1, ["selection.key-length"]),
            (Data(count: 16), 1.1, 0.1, ["selection.rate-range"]),
            (Data(count: 16), 0.1, -0.1, ["selection.rate-range"]),
            (Data(count: 16), Double.nan, 0.1, ["selection.rate-range"]),
            (Data(count: 0), 2, 2, ["selection.key-length", "selection.rate-range", "selection.rate-range"]),
        ])
    func settings(key: Data, laden: Double, unladen: Double, rules: [String]) {
        let s = SelectionSettings(key: key, ladenRate: laden, unladenRate: unladen)
        #expect(refusal { _ = try s.validated() }?.map(\.rule) == rules)
    }

    @Test("sane settings pass")
    func saneSettings() throws {
        let s = SelectionSettings(key: F.key, ladenRate: 0, unladenRate: 1)
        #expect(try s.validated() == s)
    }
}
