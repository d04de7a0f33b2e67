/// Why a frame was dropped. Every dropped frame is counted under exactly one
/// cause, the first check it failed, in the order listed.
public enum FrameDropCause: String, Error, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// More than ``FrameFormat/maxEncodedFrame`` bytes without a delimiter,
    /// or a body length over ``FrameFormat/maxBody``.
    case oversize
    /// Not valid COBS (a code byte pointing past the delimiter).
    case badCOBS
    /// Shorter than the smallest possible frame.
    case truncated
    /// The CRC-32C does not match: line noise.
    case badCRC
    /// A frame format version this side does not speak.
    case badVersion
    /// CRC fine but the fields do not add up (unknown packet kind, reserved
    /// flags set, bad key id, payload length disagreeing with the size).
    case malformed
    /// Signed with a key id the receiver has no key for.
    case unknownKey
    /// The AEAD tag does not verify (or no key of the lane opens the hello):
    /// forged, tampered with, encrypted for another session or another key.
    case badTag
    /// Travelling the wrong way: a frame reflected back.
    case wrongDirection
    /// A transport frame before this connection's handshake finished.
    case early
    /// A transport counter not above the last accepted one, or a handshake
    /// message this connection has already moved past.
    case replay

    public var description: String { rawValue }
}

/// Dropped-frame counters by cause.
public struct FrameDropCounts: Sendable, Hashable, CustomStringConvertible {
    private var counts: [FrameDropCause: Int] = [:]

    /// All zero.
    public init() {}

    /// Frames dropped for `cause`.
    public subscript(cause: FrameDropCause) -> Int {
        get { counts[cause, default: 0] }
        set { counts[cause] = newValue }
    }

    /// Frames dropped for any cause.
    public var total: Int { counts.values.reduce(0, +) }

    mutating func record(_ cause: FrameDropCause) { counts[cause, default: 0] += 1 }

    /// Adds another set of counters (several connections' decoders).
    public static func + (a: FrameDropCounts, b: FrameDropCounts) -> FrameDropCounts {
        var sum = a
        for (cause, n) in b.counts { sum.counts[cause, default: 0] += n }
        return sum
    }

    /// Non-zero counters, e.g. "badCRC=3 replay=1"; "none" when clean.
    public var description: String {
        let parts = FrameDropCause.allCases.compactMap { c in self[c] > 0 ? "\(c)=\(self[c])" : nil }
        return parts.isEmpty ? "none" : parts.joined(separator: " ")
    }
}
