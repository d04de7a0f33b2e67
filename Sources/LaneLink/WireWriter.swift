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
    /// integer, so it means the same to every peer.
    public mutating func time(_ d: Date) { i64(WireTime.microseconds(d)) }
}

/// Converting times to and from the wire's microsecond integers.
public enum WireTime {
    /// Microseconds since the Unix epoch, rounded; saturates outside ±292,000 years.
    public static func microseconds(_ d: Date) -> Int64 {
        let us = (d.timeIntervalSince1970 * 1_000_000).rounded()
        guard us.isFinite else { return us > 0 ? .max : .min }
        if us >= 9.2e18 { return .max }
        if us <= -9.2e18 { return .min }
        return Int64(us)
    }

    /// The date `us` microseconds after the Unix epoch.
    public static func date(_ us: Int64) -> Date {
        // Whole seconds and the remainder apart, so large values keep their
        // microseconds instead of losing them to one Double multiplication.
        let seconds = us / 1_000_000
        let rest = us % 1_000_000
        return Date(timeIntervalSince1970: Double(seconds) + Double(rest) / 1_000_000)
    }
}
