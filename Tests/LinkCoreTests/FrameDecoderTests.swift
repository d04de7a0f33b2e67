import Foundation
import TestKit
import Testing

@testable import LinkCore

/// The decoder against what a serial line does to bytes: splits them
/// anywhere, puts noise between frames, flips bits.
@Suite("Frame decoder")
struct FrameDecoderTests {
    /// `count` random packets and the stream of their frames, one per 10 ms.
    static func stream(seed: UInt64, count: Int) -> (packets: [LinkPacket], frames: [[UInt8]]) {
        var rng = SeededGenerator(seed: seed)
        var encoder = Fixture.laneEncoder()
        var packets: [LinkPacket] = []
        var frames: [[UInt8]] = []
        for _ in 0..<count {
            let p = Fixture.randomPacket(&rng)
            packets.append(p)
            frames.append(try! encoder.encode(p))
        }
        return (packets, frames)
    }

    /// Feeds `stream` in the pieces `split` chooses; returns the events.
    static func feed(_ stream: [UInt8], into decoder: inout FrameDecoder, split: (Int) -> Int) -> [FrameEvent]
    {
        var events: [FrameEvent] = []
        var i = 0
        while i < stream.count {
            let n = min(max(1, split(stream.count - i)), stream.count - i)
            events += decoder.feed(stream[i..<i + n])
            i += n
        }
        return events
    }

    @Test("one packet round trips")
    func single() throws {
        var encoder = Fixture.laneEncoder()
        let packet = LinkPacket(kind: .data, sequence: 7, messageID: 42, payload: [0, 1, 0, 0, 255])
        let bytes = try encoder.encode(packet)
        #expect(bytes.first == 0 && bytes.last == 0)
        #expect(!bytes.dropFirst().dropLast().contains(0))
        var decoder = Fixture.centralDecoder()
        let events = decoder.feed(bytes)
        #expect(events == [.packet(packet)])
        #expect(decoder.drops.total == 0 && decoder.delivered == 1 && decoder.bufferedCount == 0)
    }

    @Test("byte by byte gives exactly the packets sent")
    func byteByByte() {
        let (packets, frames) = Self.stream(seed: 1, count: 60)
        var decoder = Fixture.centralDecoder()
        let events = Self.feed(frames.flatMap { $0 }, into: &decoder) { _ in 1 }
        #expect(events.packets == packets)
        #expect(decoder.drops.total == 0)
    }

    @Test("random chunk sizes give exactly the packets sent", arguments: [2, 3, 5, 8, 13] as [UInt64])
    func randomChunks(seed: UInt64) {
        let (packets, frames) = Self.stream(seed: seed, count: 80)
        var rng = SeededGenerator(seed: seed &* 977)
        var decoder = Fixture.centralDecoder()
        let events = Self.feed(frames.flatMap { $0 }, into: &decoder) { _ in
            // Mostly small pieces, sometimes several frames at once.
            Bool.random(using: &rng)
                ? Int.random(in: 1...16, using: &rng) : Int.random(in: 1...2000, using: &rng)
        }
        #expect(events.packets == packets)
        #expect(decoder.drops.total == 0)
    }

    @Test("garbage between frames is dropped and costs no frame", arguments: [21, 22, 23] as [UInt64])
    func garbageBetweenFrames(seed: UInt64) {
        let (packets, frames) = Self.stream(seed: seed, count: 80)
        var rng = SeededGenerator(seed: seed &* 31)
        var stream: [UInt8] = []
        var injected = 0
        for frame in frames {
            switch Int.random(in: 0...4, using: &rng) {
            case 0:
                stream += (0..<Int.random(in: 1...60, using: &rng)).map { _ in
                    UInt8.random(in: 0...255, using: &rng)
                }
                injected += 1
            case 1:
                stream += [UInt8](repeating: 0, count: Int.random(in: 1...5, using: &rng))
            case 2:
                // A frame cut short, as when a cable is pulled mid-frame.
                let other = frames.randomElement(using: &rng)!
                stream += other[0..<Int.random(in: 1..<other.count - 1, using: &rng)]
                injected += 1
            default:
                break
            }
            stream += frame
        }
        var decoder = Fixture.centralDecoder()
        let events = Self.feed(stream, into: &decoder) { _ in Int.random(in: 1...40, using: &rng) }
        #expect(events.packets == packets)
        #expect(decoder.drops.total <= injected * 3)
        #expect(decoder.drops[.badTag] == 0 && decoder.drops[.replay] == 0)
    }

    @Test("every single bit flip in a frame is caught, never delivered")
    func singleBitFlips() throws {
        var encoder = Fixture.laneEncoder()
        let frame = try encoder.encode(
            LinkPacket(kind: .data, sequence: 1, messageID: 9, payload: [1, 0, 2, 0, 0, 3]))
        for bit in 0..<frame.count * 8 {
            var damaged = frame
            damaged[bit / 8] ^= 1 << (bit % 8)
            var decoder = Fixture.centralDecoder()
            // The trailing zero flushes a frame whose own delimiter was hit.
            let events = decoder.feed(damaged + [0])
            #expect(events.packets.isEmpty, "bit \(bit) delivered")
            if bit >= 8 && bit < (frame.count - 1) * 8 {
                #expect(decoder.drops.total >= 1, "bit \(bit) uncounted")
            }
        }
    }

    @Test("random multi-bit damage is never delivered")
    func burstDamage() throws {
        var rng = SeededGenerator(seed: 99)
        var encoder = Fixture.laneEncoder()
        for _ in 0..<3000 {
            let packet = Fixture.randomPacket(&rng, maxPayload: 64)
            var frame = try encoder.encode(packet)
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                frame[Int.random(in: 1..<frame.count - 1, using: &rng)] ^= UInt8.random(
                    in: 1...255, using: &rng)
            }
            var decoder = Fixture.centralDecoder()
            #expect(decoder.feed(frame + [0]).packets.isEmpty)
        }
    }

    @Test("an endless run without a delimiter is dropped once as oversize; the next frame gets through")
    func oversizeRun() throws {
        var decoder = Fixture.centralDecoder()
        let run = [UInt8](repeating: 0x55, count: FrameFormat.maxEncodedFrame * 3)
        var events: [FrameEvent] = []
        for chunk in stride(from: 0, to: run.count, by: 1000) {
            events += decoder.feed(run[chunk..<min(chunk + 1000, run.count)])
            #expect(decoder.bufferedCount <= FrameFormat.maxEncodedFrame)
        }
        var encoder = Fixture.laneEncoder()
        let packet = LinkPacket(kind: .heartbeat, sequence: 1)
        events += decoder.feed(try encoder.encode(packet))
        #expect(events.drops == [.oversize])
        #expect(events.packets == [packet])
    }

    @Test("the largest payload passes; one byte more is refused by the encoder")
    func payloadLimit() throws {
        var encoder = Fixture.laneEncoder()
        var decoder = Fixture.centralDecoder()
        let largest = LinkPacket(
            kind: .data, sequence: 1, messageID: 1, payload: [UInt8](repeating: 7, count: 4096))
        let bytes = try encoder.encode(largest)
        #expect(bytes.count <= FrameFormat.maxEncodedFrame + 2)
        #expect(decoder.feed(bytes).packets == [largest])
        var tooBig = largest
        tooBig.payload.append(0)
        #expect(throws: LinkCipher.SealFailure.payloadTooLarge(count: 4097, limit: 4096)) {
            try encoder.encode(tooBig)
        }
    }

    @Test("a correctly checksummed frame with a body over the limit is dropped as oversize")
    func oversizePayloadField() {
        let body = [UInt8](repeating: 1, count: FrameFormat.maxBody + 1)
        let header = FrameFormat.header(
            kind: .data, direction: .laneToCentral, keyID: Fixture.laneA, counter: 0, bodyCount: body.count)
        #expect(FrameFormat.parse(FrameFormat.frame(header: header, body: body)) == .failure(.oversize))
    }

    /// A frame edited after sealing, with its CRC recomputed, so that the
    /// check after the CRC is the one that fires.
    static func resealed(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var encoder = Fixture.laneEncoder()
        let wire = try! encoder.encode(
            LinkPacket(kind: .data, sequence: 1, messageID: 1, payload: [1, 2, 3]))
        var frame = COBS.decode(Array(wire.dropFirst().dropLast()))!
        frame.removeLast(4)
        edit(&frame)
        let crc = CRC32C.checksum(frame)
        frame += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        return [0] + COBS.encode(frame) + [0]
    }

    @Test("each structural check drops and counts under its own cause")
    func structuralCauses() {
        let cases: [([UInt8], FrameDropCause)] = [
            (Self.resealed { $0[0] = 1 }, .badVersion),
            (Self.resealed { $0[1] = 0x7F }, .malformed),
            (Self.resealed { $0[2] = 0x02 }, .malformed),
            (Self.resealed { $0[3] = 0 }, .malformed),
            (Self.resealed { $0[4] = UInt8(ascii: "!") }, .malformed),
            (Self.resealed { $0.insert(9, at: 30) }, .malformed),
            // The header is the AEAD's associated data: any edit to it, or
            // to the ciphertext, fails the tag.
            (Self.resealed { $0[4] = UInt8(ascii: "X") }, .badTag),
            (Self.resealed { $0[2] = 0x01 }, .wrongDirection),
            (Self.resealed { $0[20] ^= 1 }, .badTag),
            (Self.resealed { $0[$0.count - 1] ^= 1 }, .badTag),
            ([0, 5, 1, 2, 0], .badCOBS),
            ([0, 3, 1, 2, 0], .truncated),
            ([0] + COBS.encode([UInt8](repeating: 1, count: 60)) + [0], .badCRC),
        ]
        for (bytes, cause) in cases {
            var decoder = Fixture.centralDecoder()
            let events = decoder.feed(bytes)
            #expect(events == [.dropped(cause)], "expected \(cause)")
            #expect(decoder.drops[cause] == 1 && decoder.drops.total == 1)
        }
    }
}
