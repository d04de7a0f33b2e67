import Foundation
import RoadCargo

/// What feeding bytes to a decoder produced, in stream order.
public enum FrameEvent: Sendable, Hashable {
    /// A decrypted packet, ready for the session layer.
    case packet(LinkPacket)
    /// A frame that was dropped, and why (also counted in the decoder).
    case dropped(FrameDropCause)
}

extension Array where Element == FrameEvent {
    /// Only the delivered packets.
    public var packets: [LinkPacket] {
        compactMap { if case .packet(let p) = $0 { p } else { nil } }
    }
}

/// The unauthenticated half of decoding: splits the byte stream at 0x00,
/// undoes COBS, checks CRC, version and structure; the ``LinkCipher`` then
/// decrypts.
public struct FrameDeframer: Sendable {
    /// Bytes of the frame being received, still COBS-encoded.
    private var pending: [UInt8] = []
    /// Set after an oversize run: everything up to the next 0x00 is thrown away.
    private var discarding = false

    /// A deframer waiting for its first frame.
    public init() { pending.reserveCapacity(256) }

    /// Bytes held while waiting for a delimiter (bounded by
    /// ``FrameFormat/maxEncodedFrame``).
    public var bufferedCount: Int { pending.count }

    /// Feeds `bytes`; returns each frame they completed, parsed or with the
    /// cause to drop it for. Empty frames (0x00 0x00, a leading 0x00 sent to
    /// flush a serial line) are ignored rather than counted: they are
    /// delimiters, not frames.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Result<WireFrame, FrameDropCause>] {
        var results: [Result<WireFrame, FrameDropCause>] = []
        for byte in bytes {
            if byte != 0 {
                if discarding { continue }
                pending.append(byte)
                if pending.count > FrameFormat.maxEncodedFrame {
                    // Counted once, when the run first exceeds the limit; no
                    // more memory is spent on it.
                    pending.removeAll(keepingCapacity: true)
                    discarding = true
                    results.append(.failure(.oversize))
                }
                continue
            }
            if discarding {
                discarding = false
                continue
            }
            if pending.isEmpty { continue }
            var frame: [UInt8] = []
            let valid = COBS.decode(pending, into: &frame)
            pending.removeAll(keepingCapacity: true)
            results.append(valid ? FrameFormat.parse(frame) : .failure(.badCOBS))
        }
        return results
    }
}

/// The streaming decoder for one link end once its handshake is done (or
/// any ``LinkCipher`` state): bytes in, decrypted packets out, every dropped
/// frame counted by cause and never delivered.
///
/// Bytes may arrive in any pieces (a serial line hands over what it has);
/// the result is the same as if they had come all at once.
public struct FrameDecoder: Sendable {
    private var deframer = FrameDeframer()
    /// Decryption state: transport keys and the last counter accepted.
    public var cipher: LinkCipher
    /// Keys for a hello's key id (central only).
    public var keys: LinkKeyring
    /// Every frame dropped so far, by cause.
    public private(set) var drops = FrameDropCounts()
    /// Packets delivered so far.
    public private(set) var delivered = 0

    /// A decoder opening frames with `cipher`.
    public init(cipher: LinkCipher, keys: LinkKeyring = LinkKeyring()) {
        self.cipher = cipher
        self.keys = keys
    }

    /// Bytes waiting for their frame's delimiter.
    public var bufferedCount: Int { deframer.bufferedCount }

    /// Feeds bytes; returns what they completed, in order. Handshake repeats
    /// that need no packet are left out.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [FrameEvent] {
        var events: [FrameEvent] = []
        for parsed in deframer.feed(bytes) {
            let keys = self.keys
            switch parsed.flatMap({ cipher.open($0, keys: { keys.candidates(for: $0, now: .distantPast) }) })
            {
            case .success(.packet(let p, _, _)):
                delivered += 1
                events.append(.packet(p))
            case .success:
                continue
            case .failure(let cause):
                drops.record(cause)
                events.append(.dropped(cause))
            }
        }
        return events
    }
}
