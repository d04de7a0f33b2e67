import Foundation

/// Reads big-endian fields from a payload with a bounds check on every read;
/// a short or malformed payload throws a ``WireError`` naming the field,
/// never traps.
public struct WireReader: Sendable {
    @usableFromInline let bytes: ArraySlice<UInt8>
    /// The index of the next byte to read.
    public private(set) var position: Int

    /// Reads `bytes` from its start.
    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    /// Reads `bytes` from its start.
    public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    /// Bytes not yet read.
    public var remaining: Int { bytes.endIndex - position }

    /// Offset from the start of the payload, for error messages.
    var offset: Int { position - bytes.startIndex }

    mutating func take(_ n: Int, _ field: String) throws(WireError) -> ArraySlice<UInt8> {
        guard n <= remaining else { throw .truncated(field: field, offset: offset, needed: n - remaining) }
        let s = bytes[position..<position + n]
        position += n
        return s
    }

    /// One byte; `field` names it in errors (as for every read).
    public mutating func u8(_ field: String) throws(WireError) -> UInt8 {
        try take(1, field).first!
    }

    /// Two bytes, big-endian.
    public mutating func u16(_ field: String) throws(WireError) -> UInt16 {
        try take(2, field).reduce(0) { $0 << 8 | UInt16($1) }
    }

    /// Four bytes, big-endian.
    public mutating func u32(_ field: String) throws(WireError) -> UInt32 {
        try take(4, field).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Eight bytes, big-endian.
    public mutating func u64(_ field: String) throws(WireError) -> UInt64 {
        try take(8, field).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Eight bytes, big-endian two's complement.
    public mutating func i64(_ field: String) throws(WireError) -> Int64 {
        Int64(bitPattern: try u64(field))
    }

    /// 0 or 1; anything else is an error rather than "true", so that a
    /// corrupted or misaligned payload is noticed.
    public mutating func bool(_ field: String) throws(WireError) -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        case let v: throw .invalidValue(field: field, detail: "a boolean is 0 or 1, not \(v)")
        }
    }

    /// The next `n` bytes, uncopied.
    public mutating func raw(_ n: Int, _ field: String) throws(WireError) -> ArraySlice<UInt8> {
        try take(n, field)
    }

    /// A u16 count (u8 when not `wide`). Each element takes at least
    /// `minElementSize` bytes, so a count the payload cannot hold fails here,
    /// before anything reserves memory for it.
    public mutating func count(_ field: String, wide: Bool = true, minElementSize: Int = 1) throws(WireError)
        -> Int
    {
        let n = wide ? Int(try u16(field)) : Int(try u8(field))
        guard n * minElementSize <= remaining else {
            throw .truncated(field: field, offset: offset, needed: n * minElementSize - remaining)
        }
        return n
    }

    /// UTF-8 with a u16 byte count (u8 when `short`); invalid UTF-8 is an error.
    public mutating func string(_ field: String, short: Bool = false) throws(WireError) -> String {
        let n = short ? Int(try u8(field)) : Int(try u16(field))
        let raw = try take(n, field)
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw .invalidValue(field: field, detail: "not valid UTF-8")
        }
        return s
    }

    /// Microseconds since the Unix epoch, as ``WireWriter/time(_:field:)``
    /// writes them; outside ``WireTime/messageRange`` is an error.
    public mutating func time(_ field: String) throws(WireError) -> Date {
        let us = try i64(field)
        guard WireTime.messageRange.contains(us) else {
            throw .invalidValue(field: field, detail: "\(us) µs is outside 1970-01-01 to 2099-12-31")
        }
        return WireTime.date(us)
    }

    /// Throws unless every byte was read: trailing bytes mean the peer wrote
    /// a layout this side does not know.
    public func finish(_ message: String) throws(WireError) {
        if remaining > 0 { throw .trailingBytes(count: remaining, after: message) }
    }
}
