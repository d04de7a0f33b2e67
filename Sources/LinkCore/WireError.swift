/// Why a payload could not be encoded or decoded. Every case names the field,
/// so a log line says what a peer got wrong rather than "decoding failed".
public enum WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The payload ended `needed` bytes short while reading `field` at `offset`.
    case truncated(field: String, offset: Int, needed: Int)
    /// Bytes were left over after the message's last field: a peer speaking
    /// another layout, which must not be half-understood.
    case trailingBytes(count: Int, after: String)
    /// A tag (message type, event kind, enum code) that this version does not know.
    case unknownTag(field: String, value: UInt64)
    /// A field's bytes are well-formed but its value breaks a rule
    /// (a VRN with a lower-case letter, a Luhn failure, a boolean that is 2).
    case invalidValue(field: String, detail: String)
    /// A value cannot be written in its field's width (a string over 65,535
    /// bytes, a list too long for its count).
    case tooLarge(field: String, count: Int, limit: Int)
    /// A message decoded fine but travelled in the wrong packet kind.
    case wrongPacketKind(message: String, expected: PacketKind, actual: PacketKind)

    public var description: String {
        switch self {
        case .truncated(let field, let offset, let needed):
            "payload ends \(needed) byte(s) short reading \(field) at offset \(offset)"
        case .trailingBytes(let count, let after):
            "\(count) unexpected byte(s) after \(after)"
        case .unknownTag(let field, let value):
            "unknown \(field) \(value)"
        case .invalidValue(let field, let detail):
            "invalid \(field): \(detail)"
        case .tooLarge(let field, let count, let limit):
            "\(field) has \(count), more than the \(limit) its field can hold"
        case .wrongPacketKind(let message, let expected, let actual):
            "\(message) travels in a \(expected) packet, not \(actual)"
        }
    }
}
