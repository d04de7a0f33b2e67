import Foundation
import RoadCargo
import Testing

@testable import LaneLink

/// Central's side of authentication: a frame that is forged, replayed,
/// signed with another lane's key, too old or too new, or reflected is
/// dropped and counted under its cause, and never moves the replay state.
@Suite("Signing and verification")
struct SigningTests {
    let packet = LinkPacket(kind: .data, sequence: 5, messageID: 77, payload: Array("STOP".utf8))

    func frame(key: LinkKey, direction: LinkDirection = .laneToCentral, at: Date = Fixture.now) -> [UInt8] {
        var encoder = FrameEncoder(key: key, direction: direction)
        return try! encoder.encode(packet, now: at)
    }

    /// Central's decoder after feeding `bytes`.
    func decode(_ bytes: [UInt8]...) -> (FrameDecoder, [FrameEvent]) {
        var decoder = Fixture.centralDecoder()
        let events = bytes.flatMap { decoder.feed($0, now: Fixture.now) }
        return (decoder, events)
    }

    @Test("an authentic frame is delivered with its lane")
    func authentic() {
        let (decoder, events) = decode(frame(key: Fixture.keyA))
        #expect(events.packets.map(\.keyID) == [Fixture.laneA])
        #expect(decoder.verifier.lastAccepted[Fixture.laneA] == 1_748_736_000_000_000)
    }

    @Test("a forged frame (lane A's id, a key that is not A's) is dropped as bad signature")
    func forged() throws {
        let forger = try LinkKey(laneID: Fixture.laneA, bytes: [UInt8](repeating: 0x42, count: 32))
        let (decoder, events) = decode(frame(key: forger))
        #expect(events == [.dropped(.badSignature)])
        #expect(decoder.drops[.badSignature] == 1)
        #expect(decoder.verifier.lastAccepted.isEmpty)
    }

    @Test("lane B signing as lane A is dropped as bad signature")
    func anotherLanesKey() throws {
        let bPosingAsA = try LinkKey(laneID: Fixture.laneA, bytes: Fixture.keyB.secret)
        let (decoder, events) = decode(frame(key: bPosingAsA))
        #expect(events == [.dropped(.badSignature)])
        #expect(decoder.drops[.badSignature] == 1)
    }

    @Test("a lane the receiver has no key for is dropped as unknown key")
    func unknownLane() throws {
        let stranger = LinkKey.generate(for: try LaneID("SBC-OUT-01"))
        let (decoder, events) = decode(frame(key: stranger))
        #expect(events == [.dropped(.unknownKey)])
        #expect(decoder.drops[.unknownKey] == 1)
    }

    @Test("a replayed frame is dropped as replay, also on another connection sharing the verifier")
    func replayed() {
        let bytes = frame(key: Fixture.keyA)
        let (decoder, events) = decode(bytes, bytes)
        #expect(events.packets.count == 1 && events.drops == [.replay])
        #expect(decoder.drops[.replay] == 1)
        var second = FrameDecoder(verifier: decoder.verifier)
        #expect(second.feed(bytes, now: Fixture.now) == [.dropped(.replay)])
    }

    @Test("an older timestamp after a newer one is a replay, even inside the window")
    func outOfOrder() {
        let newer = frame(key: Fixture.keyA, at: Fixture.now.addingTimeInterval(1))
        let older = frame(key: Fixture.keyA, at: Fixture.now)
        let (decoder, events) = decode(newer, older)
        #expect(events.packets.count == 1 && events.drops == [.replay])
        #expect(decoder.drops[.replay] == 1)
    }

    @Test(
        "a timestamp outside the window is dropped; the edges are inside",
        arguments: [(-61.0, false), (61.0, false), (-60.0, true), (60.0, true), (-3600.0, false)])
    func window(offset: Double, accepted: Bool) {
        let (decoder, events) = decode(frame(key: Fixture.keyA, at: Fixture.now.addingTimeInterval(offset)))
        #expect(events.packets.count == (accepted ? 1 : 0))
        #expect(decoder.drops[.outsideWindow] == (accepted ? 0 : 1))
    }

    @Test("the window is configurable")
    func configurableWindow() {
        var decoder = Fixture.centralDecoder(window: 5)
        let late = frame(key: Fixture.keyA, at: Fixture.now.addingTimeInterval(-6))
        #expect(decoder.feed(late, now: Fixture.now) == [.dropped(.outsideWindow)])
    }

    @Test("a frame central sent, reflected back to central, is dropped as wrong direction")
    func reflected() {
        let (decoder, events) = decode(frame(key: Fixture.keyA, direction: .centralToLane))
        #expect(events == [.dropped(.wrongDirection)])
        #expect(decoder.drops[.wrongDirection] == 1)
    }

    @Test("a rejected frame does not move the replay state")
    func failuresLeaveNoTrace() throws {
        let forger = try LinkKey(laneID: Fixture.laneA, bytes: [UInt8](repeating: 1, count: 32))
        let future = frame(key: forger, at: Fixture.now.addingTimeInterval(30))
        let (decoder, events) = decode(future, frame(key: Fixture.keyA))
        #expect(events.drops == [.badSignature] && events.packets.count == 1)
        #expect(decoder.drops.description == "badSignature=1")
    }

    @Test("frames sent in the same microsecond, or after the clock stepped back, still increase")
    func strictlyIncreasing() {
        var encoder = Fixture.laneEncoder()
        var decoder = Fixture.centralDecoder()
        var stream: [UInt8] = []
        for at in [0.0, 0.0, 0.0, -2.0, -2.0, 1.0] {
            stream += try! encoder.encode(packet, now: Fixture.now.addingTimeInterval(at))
        }
        let stamps = decoder.feed(stream, now: Fixture.now).packets.map(\.timestamp)
        let base: UInt64 = 1_748_736_000_000_000
        #expect(stamps == [base, base + 1, base + 2, base + 3, base + 4, base + 1_000_000])
    }

    @Test("a lane verifies central's frames with its own key, and central's encoder stamps them")
    func centralToLane() {
        var central = FrameEncoder(key: Fixture.keyA, direction: .centralToLane)
        var lane = FrameDecoder(keys: LinkKeyring([Fixture.keyA]), receiving: .centralToLane)
        let bytes = try! central.encode(packet, now: Fixture.now)
        #expect(lane.feed(bytes, now: Fixture.now).packets.map(\.packet) == [packet])
        var other = FrameDecoder(keys: LinkKeyring([Fixture.keyB]), receiving: .centralToLane)
        #expect(other.feed(bytes, now: Fixture.now) == [.dropped(.unknownKey)])
    }

    @Test("tags compare in constant time and by value")
    func constantTime() {
        #expect(Signing.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Signing.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Signing.constantTimeEqual([1, 2], [1, 2, 3]))
    }

    @Test("the tag is the first 8 bytes of HMAC-SHA256 (checked against Python's hmac)")
    func knownTags() {
        // python3: hmac.new(bytes(range(32)), msg, hashlib.sha256).hexdigest()[:16]
        #expect(
            Signing.tag(Array("Hi There".utf8)[...], key: Fixture.keyA) == [
                0x27, 0x86, 0x39, 0xEC, 0x02, 0x30, 0x9D, 0x3A,
            ])
        #expect(Signing.tag([], key: Fixture.keyA) == [0xD3, 0x8B, 0x42, 0x09, 0x6D, 0x80, 0xF4, 0x5F])
        // The cached HMAC state is copied, not shared: the same tag twice.
        #expect(Signing.tag([], key: Fixture.keyA) == [0xD3, 0x8B, 0x42, 0x09, 0x6D, 0x80, 0xF4, 0x5F])
    }
}
