import Foundation

/// Appends big-endian fields to a byte array: the one way payloads are built.
///
/// Hand-written rather than Codable so that the layout on the wire is exactly
/// what docs/link-protocol.md says, field by field, and cannot change because
/// a property was renamed or reordered.
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// An empty writer; `capacity` avoids regrowth for payloads of known size.
    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// One byte.
    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    /// Two bytes, big-endian.
    public mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    /// Four bytes, big-endian.
    public mutating func u32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: v >> shift))
        }
    }

    /// Eight bytes, big-endian.
    public mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: v >> shift))
        }
    }

    /// Two's complement, big-endian.
    public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }

    /// One byte, 0 or 1.
    public mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }

    /// Bytes as they are, without a length.
    public mutating func raw(_ v: some Sequence<UInt8>) { bytes.append(contentsOf: v) }

    /// A count that must fit its field: u8 or u16.
    public mutating func count(_ n: Int, field: String, wide: Bool = true) throws(WireError) {
        let limit = wide ? Int(UInt16.max) : Int(UInt8.max)
        guard n <= limit else { throw .tooLarge(field: field, count: n, limit: limit) }
        if wide { u16(UInt16(n)) } else { u8(UInt8(n)) }
    }

    /// UTF-8 with a u16 byte count (u8 when `short`).
    public mutating func string(_ s: String, field: String, short: Bool = false) throws(WireError) {
        let utf8 = s.utf8
        try count(utf8.count, field: field, wide: !short)
        bytes.append(contentsOf: utf8)
    }

    /// A time as signed microseconds since 1970-01-01T00:00:00Z, rounded to
    /// the nearest microsecond: finer than any clock in a lane, and an
    /// integer, so it means the same to every peer. Only times in
    /// ``WireTime/messageRange`` can be written (see there why).
    public mutating func time(_ d: Date, field: String = "time") throws(WireError) {
        let us = WireTime.microseconds(d)
        guard WireTime.messageRange.contains(us) else {
            throw .invalidValue(field: field, detail: "\(d) is outside 1970-01-01 to 2099-12-31")
        }
        i64(us)
    }
}

/// Converting times to and from the wire's microsecond integers.
public enum WireTime {
    /// Times a message field may carry: 1970-01-01T00:00:00Z up to, not
    /// including, 2100-01-01T00:00:00Z. Date holds a Double of seconds
    /// since 2001; within about 136 years of 2001 its precision is finer
    /// than half a microsecond, so every microsecond in this range survives
    /// the trip to Date and back exactly. Outside it, a value would change on
    /// the way through and a peer could not tell which one was meant.
    public static let messageRange: Range<Int64> = 0..<4_102_444_800_000_000

    /// Seconds from 1970-01-01 to Date's reference date, 2001-01-01.
    static let referenceSeconds: Int64 = 978_307_200

    /// Microseconds since the Unix epoch, rounded to the nearest; saturates
    /// beyond about ±285,000 years. Whole seconds and the fraction are
    /// converted apart, so no precision is lost to one big multiplication.
    public static func microseconds(_ d: Date) -> Int64 {
        let t = d.timeIntervalSinceReferenceDate
        guard t.isFinite else { return t > 0 ? .max : .min }
        let whole = t.rounded(.down)
        guard abs(whole) < 9e12 else { return whole > 0 ? .max : .min }
        // Exact: subtracting a double's floor loses nothing.
        let fraction = t - whole
        return (Int64(whole) + referenceSeconds) * 1_000_000 + Int64((fraction * 1_000_000).rounded())
    }

    /// The date `us` microseconds after the Unix epoch.
    public static func date(_ us: Int64) -> Date {
        var seconds = us / 1_000_000 - referenceSeconds
        var rest = us % 1_000_000
        if rest < 0 {
            seconds -= 1
            rest += 1_000_000
        }
        return Date(timeIntervalSinceReferenceDate: Double(seconds) + Double(rest) / 1_000_000)
    }
}
