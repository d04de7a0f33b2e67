import Foundation
import RoadCargo

/// Turns packets into encrypted, COBS-encoded, delimited bytes for the wire
/// through a ``LinkCipher`` (tests, the fuzzer and the benchmark; the
/// endpoint uses its cipher directly).
public struct FrameEncoder: Sendable {
    /// The encryption state: handshake or transport keys and counters.
    public var cipher: LinkCipher

    public init(cipher: LinkCipher) { self.cipher = cipher }

    /// The wire bytes of `packet`: 0x00, COBS(frame), 0x00.
    ///
    /// The leading delimiter costs one byte and saves a frame: line noise
    /// just before it would otherwise run into the frame's first bytes and
    /// take the frame down with it. Between two frames the receiver sees an
    /// empty frame, which it ignores.
    public mutating func encode(_ packet: LinkPacket) throws(LinkCipher.SealFailure) -> [UInt8] {
        try cipher.seal(packet).get()
    }
}

extension LinkCipher {
    /// A cipher past its handshake with fixed transport keys: for tests, the
    /// fuzzer and the benchmark, which exercise the frames, not the handshake.
    public static func established(
        lane: LaneID, sending: LinkDirection, sendKey: [UInt8], receiveKey: [UInt8]
    ) -> LinkCipher {
        var cipher: LinkCipher
        if sending == .laneToCentral {
            cipher = LinkCipher(role: .initiator(key: LinkKey.generate(for: lane), helloCounter: 1))
        } else {
            cipher = LinkCipher(role: .responder())
            cipher.lane = lane
        }
        cipher.phase = .transport(Transport(send: sendKey, receive: receiveKey))
        return cipher
    }
}
