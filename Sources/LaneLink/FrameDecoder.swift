import Foundation
import RoadCargo

/// What feeding bytes to a decoder produced, in stream order.
public enum FrameEvent: Sendable, Hashable {
    /// An authenticated packet, ready for the session layer.
    case packet(ReceivedPacket)
    /// A frame that was dropped, and why (also counted in the decoder).
    case dropped(FrameDropCause)
}

extension Array where Element == FrameEvent {
    /// Only the delivered packets.
    public var packets: [ReceivedPacket] {
        compactMap { if case .packet(let p) = $0 { p } else { nil } }
    }
}

/// The unauthenticated half of decoding: splits the byte stream at 0x00,
/// undoes COBS, checks CRC, version and structure. Central can run one per
/// connection in front of a shared ``SignatureVerifier``.
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
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Result<SignedFrame, FrameDropCause>] {
        var results: [Result<SignedFrame, FrameDropCause>] = []
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

/// The streaming decoder for one link end: bytes in, authenticated packets
/// out, every dropped frame counted by cause and never delivered.
///
/// Bytes may arrive in any pieces (a serial line hands over what it has);
/// the result is the same as if they had come all at once.
public struct FrameDecoder: Sendable {
    private var deframer = FrameDeframer()
    /// Authentication state: keys, window, last timestamps.
    public var verifier: SignatureVerifier
    /// Every frame dropped so far, by cause.
    public private(set) var drops = FrameDropCounts()
    /// Packets delivered so far.
    public private(set) var delivered = 0

    /// A decoder that authenticates with `verifier`.
    public init(verifier: SignatureVerifier) { self.verifier = verifier }

    /// A decoder for frames travelling `receiving`, accepting `keys`.
    public init(keys: LinkKeyring, receiving: LinkDirection, windowSeconds: Double = 60) {
        self.init(verifier: SignatureVerifier(keys: keys, receiving: receiving, windowSeconds: windowSeconds))
    }

    /// Bytes waiting for their frame's delimiter.
    public var bufferedCount: Int { deframer.bufferedCount }

    /// Feeds bytes received now by `clock` (the receiver's clock).
    public mutating func feed(_ bytes: some Sequence<UInt8>, clock: any WallClock) -> [FrameEvent] {
        feed(bytes, now: clock.now())
    }

    /// Feeds bytes received at `now` (the receiver's clock, for the time
    /// window); returns what they completed, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>, now: Date) -> [FrameEvent] {
        deframer.feed(bytes).map { parsed in
            switch parsed.flatMap({ verifier.verify($0, now: now) }) {
            case .success(let p):
                delivered += 1
                return .packet(p)
            case .failure(let cause):
                drops.record(cause)
                return .dropped(cause)
            }
        }
    }
}
