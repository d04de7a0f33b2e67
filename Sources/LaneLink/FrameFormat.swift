import RoadCargo

/// The frame layout, byte by byte (docs/link-protocol.md has the table).
///
/// Before COBS, a frame is:
///
/// | offset    | size | field                                              |
/// |-----------|------|----------------------------------------------------|
/// | 0         | 1    | frame format version, 1                            |
/// | 1         | 1    | packet kind (``PacketKind``)                       |
/// | 2         | 1    | flags: bit 0 direction, bits 1-7 zero              |
/// | 3         | 4    | sequence, u32 BE                                   |
/// | 7         | 8    | message id, u64 BE                                 |
/// | 15        | 1    | key id length n, 1...32                            |
/// | 16        | n    | key id: the lane id, ASCII                         |
/// | 16+n      | 8    | signing timestamp, µs since Unix epoch, u64 BE     |
/// | 24+n      | 2    | payload length L, u16 BE, at most 4096             |
/// | 26+n      | L    | payload                                            |
/// | 26+n+L    | 8    | HMAC-SHA256(key, bytes 0..<26+n+L), first 8 bytes  |
/// | 34+n+L    | 4    | CRC-32C of bytes 0..<34+n+L, u32 BE                |
public enum FrameFormat {
    /// The frame format this code writes and reads. A change to the layout
    /// above gets a new number; message layouts are versioned separately
    /// through the hello handshake.
    public static let version: UInt8 = 1

    /// The largest payload a frame carries: 4 KiB holds any single message
    /// but a bundle-cache chunk, and those are split to fit. Bounded so that a
    /// receiver's buffer is bounded and one frame holds a 115200-baud line
    /// for at most about 0.37 s.
    public static let maxPayload = 4096

    /// The longest key id: LaneID's own limit.
    public static let maxKeyID = 32

    /// Bytes before the key id.
    static let fixedHeader = 16
    /// Bytes after the payload: tag and CRC.
    static let trailer = Signing.tagLength + 4
    /// A frame with a one-byte key id and no payload.
    public static let minFrame = fixedHeader + 1 + 8 + 2 + trailer
    /// A frame with the longest key id and payload.
    public static let maxFrame = fixedHeader + maxKeyID + 8 + 2 + maxPayload + trailer
    /// The longest COBS encoding of a frame, without its delimiter: the
    /// decoder discards any run of bytes longer than this without a 0x00.
    public static let maxEncodedFrame = COBS.maxEncodedCount(maxFrame)

    /// Flags bit 0: set when central sends, clear when a lane sends.
    static let directionFlag: UInt8 = 0x01
}

/// A frame that passed its CRC and parsed, but is not yet authenticated.
public struct SignedFrame: Sendable, Hashable {
    /// The packet the frame carries.
    public var packet: LinkPacket
    /// The direction bit, as signed.
    public var direction: LinkDirection
    /// Which key signed it: the lane id.
    public var keyID: LaneID
    /// The sender's signing timestamp, µs since the Unix epoch.
    public var timestamp: UInt64
    /// The truncated HMAC it carries.
    public var tag: [UInt8]
    /// The bytes the HMAC covers: everything from the version byte to the
    /// end of the payload.
    public var signedBytes: ArraySlice<UInt8>
}

extension FrameFormat {
    /// Builds the frame bytes (before COBS) for `packet`, signed with `key`.
    /// The caller has checked the payload size.
    static func build(
        _ packet: LinkPacket, direction: LinkDirection, key: LinkKey, timestamp: UInt64
    ) -> [UInt8] {
        let id = key.laneID.value.utf8
        var w = WireWriter(capacity: fixedHeader + id.count + 10 + packet.payload.count + trailer)
        w.u8(version)
        w.u8(packet.kind.rawValue)
        w.u8(direction == .centralToLane ? directionFlag : 0)
        w.u32(packet.sequence)
        w.u64(packet.messageID)
        w.u8(UInt8(id.count))
        w.raw(id)
        w.u64(timestamp)
        w.u16(UInt16(packet.payload.count))
        w.raw(packet.payload)
        var bytes = w.bytes
        bytes.append(contentsOf: Signing.tag(bytes[...], key: key))
        let crc = CRC32C.checksum(bytes)
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: crc >> shift))
        }
        return bytes
    }

    /// Checks a decoded frame's CRC, version and structure, in that order,
    /// and returns its fields, or the cause to drop it for.
    public static func parse(_ frame: [UInt8]) -> Result<SignedFrame, FrameDropCause> {
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
            let sequence = try r.u32("sequence")
            let messageID = try r.u64("message id")
            let idLength = Int(try r.u8("key id length"))
            guard idLength >= 1, idLength <= maxKeyID else { return .failure(.malformed) }
            let idBytes = try r.raw(idLength, "key id")
            guard let idString = String(validating: idBytes, as: UTF8.self),
                let keyID = try? LaneID(idString)
            else { return .failure(.malformed) }
            let timestamp = try r.u64("timestamp")
            let length = Int(try r.u16("payload length"))
            guard length <= maxPayload else { return .failure(.oversize) }
            // The payload length must account for exactly the bytes present:
            // a frame whose length field disagrees with its size is refused
            // rather than read short or long.
            guard r.remaining == length + Signing.tagLength else { return .failure(.malformed) }
            let payload = Array(try r.raw(length, "payload"))
            let signedEnd = r.position
            let tag = Array(try r.raw(Signing.tagLength, "tag"))
            let packet = LinkPacket(kind: kind, sequence: sequence, messageID: messageID, payload: payload)
            return .success(
                SignedFrame(
                    packet: packet, direction: flags & directionFlag == 0 ? .laneToCentral : .centralToLane,
                    keyID: keyID, timestamp: timestamp, tag: tag, signedBytes: frame[..<signedEnd]))
        } catch {
            return .failure(.malformed)
        }
    }
}
