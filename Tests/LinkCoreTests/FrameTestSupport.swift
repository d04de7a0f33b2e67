import Foundation
import RoadCargo
import TestKit

@testable import LinkCore

/// Fixed inputs shared by the frame, signing and message tests.
enum Fixture {
    static let laneA = try! LaneID("LMC-IN-03")
    static let laneB = try! LaneID("LMC-IN-04")
    static let keyA = try! LinkKey(laneID: laneA, bytes: (0..<32).map { UInt8($0) })
    static let keyB = try! LinkKey(laneID: laneB, bytes: (0..<32).map { UInt8(100 + $0) })
    /// 2025-06-01T00:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_748_736_000)

    /// Fixed transport keys, as if a handshake had produced them.
    static let upKey: [UInt8] = (0..<32).map { UInt8($0) }
    static let downKey: [UInt8] = (0..<32).map { UInt8(200 &+ $0) }

    /// Central's decoder for lane A's frames, past the handshake.
    static func centralDecoder() -> FrameDecoder {
        FrameDecoder(
            cipher: .established(lane: laneA, sending: .centralToLane, sendKey: downKey, receiveKey: upKey))
    }

    /// Lane A's encoder, past the handshake.
    static func laneEncoder() -> FrameEncoder {
        FrameEncoder(
            cipher: .established(lane: laneA, sending: .laneToCentral, sendKey: upKey, receiveKey: downKey))
    }

    static func randomPacket(_ rng: inout SeededGenerator, maxPayload: Int = 300) -> LinkPacket {
        let n = Int.random(in: 0...maxPayload, using: &rng)
        return LinkPacket(
            // Transport kinds: handshake kinds go through the Noise handshake.
            kind: [PacketKind.data, .ack, .heartbeat, .goodbye].randomElement(using: &rng)!,
            sequence: UInt32.random(in: 0...UInt32.max, using: &rng),
            messageID: UInt64.random(in: 0...UInt64.max, using: &rng),
            // Zeros are common so that COBS has work to do.
            payload: (0..<n).map { _ in Bool.random(using: &rng) ? 0 : UInt8.random(in: 0...255, using: &rng)
            })
    }
}

extension Array where Element == FrameEvent {
    var drops: [FrameDropCause] {
        compactMap { if case .dropped(let c) = $0 { c } else { nil } }
    }
}
