import Crypto
import Foundation
import RoadCargo

/// Settings for random selection. Rates are fractions from 0 (never) to 1
/// (always).
public struct SelectionSettings: Sendable, Hashable {
    /// The secret that keys the selection hash. Whoever knows it can predict
    /// selection, so it is configured per deployment and never logged.
    public var key: Data
    /// Rate for laden vehicles on a valid bundle.
    public var ladenRate: Double
    /// Rate for unladen vehicles and, in the transitional period, for
    /// vehicles with a paper manifest (rule 3 applies "the same selection").
    public var unladenRate: Double

    public init(key: Data, ladenRate: Double, unladenRate: Double) {
        self.key = key
        self.ladenRate = ladenRate
        self.unladenRate = unladenRate
    }

    public func validated() throws(ValidationFailure) -> SelectionSettings {
        var c = IssueCollector()
        if key.count < 16 {
            c.add("selection.key", "selection.key-length", "the selection key needs at least 16 bytes")
        }
        for (name, rate) in [("selection.ladenRate", ladenRate), ("selection.unladenRate", unladenRate)]
        where !(0...1).contains(rate) || rate.isNaN {
            c.add(name, "selection.rate-range", "a rate is a fraction from 0 to 1; got \(rate)")
        }
        do { try c.throwIfAny() } catch let f as ValidationFailure { throw f } catch {}
        return self
    }
}

/// Reproducible random selection: HMAC-SHA256 of a subject under the
/// configured key, read as a fraction in [0, 1), compared with the rate.
/// The same subject, key and rate always give the same answer, so a test,
/// an audit or a replay agrees with what the lane did.
public struct Selector: Sendable {
    public let settings: SelectionSettings

    public init(_ settings: SelectionSettings) { self.settings = settings }

    /// The subject hashed for a laden vehicle: its bundle.
    public static func subject(ubr: UBR) -> String { "UBR:\(ubr.value)" }

    /// The subject hashed for a vehicle without a bundle: plate and the arrival
    /// second, so the same truck is not picked (or spared) on every trip.
    public static func subject(vrn: VRN, arrivedAt: Date) -> String {
        "VRN:\(vrn.value)@\(Int64(floor(arrivedAt.timeIntervalSince1970)))"
    }

    /// The subject's position in [0, 1): the first 64 bits of the MAC.
    public func fraction(of subject: String) -> Double {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data(subject.utf8), using: SymmetricKey(data: settings.key))
        var v: UInt64 = 0
        for byte in mac.prefix(8) { v = v << 8 | UInt64(byte) }
        // 53 bits fit a Double exactly; the rest would only add rounding.
        return Double(v >> 11) / Double(UInt64(1) << 53)
    }

    public func selects(_ subject: String, rate: Double) -> Bool {
        rate > 0 && fraction(of: subject) < rate
    }
}
