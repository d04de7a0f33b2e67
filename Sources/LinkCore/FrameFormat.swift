import RoadCargo

/// The frame layout, byte by byte (docs/link-protocol.md has the table).
///
/// Before COBS, a frame is:
///
/// | offset    | size | field                                               |
/// |-----------|------|-----------------------------------------------------|
/// | 0         | 1    | frame format version, 2                             |
/// | 1         | 1    | packet kind (``PacketKind``)                        |
/// | 2         | 1    | flags: bit 0 direction, bits 1-7 zero               |
/// | 3         | 1    | key id length n, 1...32                             |
/// | 4         | n    | key id: the lane id, ASCII                          |
/// | 4+n       | 8    | counter, u64 BE: the AEAD nonce (0 in handshakes)   |
/// | 12+n      | 2    | body length L, u16 BE, at most ``maxBody``          |
/// | 14+n      | L    | body: a Noise handshake message or a ciphertext     |
/// | 14+n+L    | 4    | CRC-32C of bytes 0..<14+n+L, u32 BE                 |
public enum FrameFormat {
    /// The frame format this code writes and reads. Version 1 was signed
    /// cleartext; version 2 is encrypted (Noise NNpsk0 and ChaChaPoly).
    public static let version: UInt8 = 2

    /// The largest payload a packet carries: 4 KiB holds any single message
    /// but a bundle-cache chunk, and those are split to fit. Bounded so that a
    /// receiver's buffer is bounded and one frame holds a 115200-baud line
    /// for at most about 0.4 s.
    public static let maxPayload = 4096

    /// The longest key id: LaneID's own limit.
    public static let maxKeyID = 32

    /// Bytes of the plaintext before the payload: kind, sequence, message id.
    static let innerHeader = 1 + 4 + 8
    /// The longest body: a hello (ephemeral key, hello counter, inner header,
    /// payload, tag).
    public static let maxBody = Noise.dhLength + 8 + innerHeader + maxPayload + Noise.tagLength
    /// Bytes before the key id.
    static let fixedHeader = 4
    /// A frame with a one-byte key id and an empty body.
    public static let minFrame = fixedHeader + 1 + 8 + 2 + 4
    /// A frame with the longest key id and body.
    public static let maxFrame = fixedHeader + maxKeyID + 8 + 2 + maxBody + 4
    /// The longest COBS encoding of a frame, without its delimiter: the
    /// decoder discards any run of bytes longer than this without a 0x00.
    public static let maxEncodedFrame = COBS.maxEncodedCount(maxFrame)

    /// Flags bit 0: set when central sends, clear when a lane sends.
    static let directionFlag: UInt8 = 0x01
}

/// A frame that passed its CRC and parsed, but is not yet decrypted.
public struct WireFrame: Sendable, Hashable {
    public var kind: PacketKind
    /// The direction bit (authenticated as associated data in transport frames).
    public var direction: LinkDirection
    /// Which lane's key to try: the lane id, in clear.
    public var keyID: LaneID
    /// The AEAD nonce of a transport frame; 0 in handshake frames.
    public var counter: UInt64
    /// The Noise message or ciphertext.
    public var body: [UInt8]
    /// Bytes 0..<14+n: the associated data of a transport frame.
    public var header: [UInt8]
}

extension FrameFormat {
    /// The header bytes (0..<14+n) of a frame.
    static func header(
        kind: PacketKind, direction: LinkDirection, keyID: LaneID, counter: UInt64, bodyCount: Int
    ) -> [UInt8] {
        let id = keyID.value.utf8
        var w = WireWriter(capacity: fixedHeader + id.count + 10)
        w.u8(version)
        w.u8(kind.rawValue)
        w.u8(direction == .centralToLane ? directionFlag : 0)
        w.u8(UInt8(id.count))
        w.raw(id)
        w.u64(counter)
        w.u16(UInt16(bodyCount))
        return w.bytes
    }

    /// Appends the CRC to `header + body`: the frame before COBS.
    static func frame(header: [UInt8], body: [UInt8]) -> [UInt8] {
        var bytes = header + body
        let crc = CRC32C.checksum(bytes)
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: crc >> shift))
        }
        return bytes
    }

    /// 0x00, COBS(frame), 0x00.
    static func wire(_ frame: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0]
        COBS.encode(frame, into: &out)
        out.append(0)
        return out
    }

    /// The plaintext every body encrypts: kind, sequence, message id, payload.
    static func inner(_ packet: LinkPacket) -> [UInt8] {
        var w = WireWriter(capacity: innerHeader + packet.payload.count)
        w.u8(packet.kind.rawValue)
        w.u32(packet.sequence)
        w.u64(packet.messageID)
        w.raw(packet.payload)
        return w.bytes
    }

    /// Reads ``inner(_:)``; nil when it does not parse or names another kind than the header.
    static func packet(inner: [UInt8], kind: PacketKind) -> LinkPacket? {
        guard inner.count >= innerHeader, inner[0] == kind.rawValue else { return nil }
        var r = WireReader(inner[...])
        guard (try? r.u8("kind")) != nil, let sequence = try? r.u32("sequence"),
            let messageID = try? r.u64("message id"), let payload = try? r.raw(r.remaining, "payload")
        else { return nil }
        return LinkPacket(kind: kind, sequence: sequence, messageID: messageID, payload: Array(payload))
    }

    /// Checks a decoded frame's CRC, version and structure, in that order,
    /// and returns its fields, or the cause to drop it for.
    public static func parse(_ frame: [UInt8]) -> Result<WireFrame, FrameDropCause> {
        guard frame.count >= minFrame else { return .failure(.truncated) }
        let body = frame.count - 4
        let carried = frame[body...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard CRC32C.checksum(frame[..<body]) == carried else { return .failure(.badCRC) }
        guard frame[0] == version else { return .failure(.badVersion) }
        guard let kind = PacketKind(rawValue: frame[1]) else { return .failure(.malformed) }
        let flags = frame[2]
        guard flags & ~directionFlag == 0 else { return .failure(.malformed) }
        var r = WireReader(frame[..<body])
        do {
            _ = try r.raw(3, "header")
            let idLength = Int(try r.u8("key id length"))
            guard idLength >= 1, idLength <= maxKeyID else { return .failure(.malformed) }
            let idBytes = try r.raw(idLength, "key id")
            guard let idString = String(validating: idBytes, as: UTF8.self),
                let keyID = try? LaneID(idString)
            else { return .failure(.malformed) }
            let counter = try r.u64("counter")
            let length = Int(try r.u16("body length"))
            guard length <= maxBody else { return .failure(.oversize) }
            // The length must account for exactly the bytes present: a frame
            // whose length field disagrees with its size is refused rather
            // than read short or long.
            guard r.remaining == length else { return .failure(.malformed) }
            let headerEnd = r.position
            let bytes = Array(try r.raw(length, "body"))
            return .success(
                WireFrame(
                    kind: kind, direction: flags & directionFlag == 0 ? .laneToCentral : .centralToLane,
                    keyID: keyID, counter: counter, body: bytes, header: Array(frame[..<headerEnd])))
        } catch {
            return .failure(.malformed)
        }
    }
}
