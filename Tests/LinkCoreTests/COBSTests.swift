import TestKit
import Testing

@testable import LinkCore

@Suite("COBS")
struct COBSTests {
    /// The examples from Cheshire and Baker's paper, as Wikipedia lists them.
    @Test(
        "known encodings",
        arguments: [
            ([0x00], [0x01, 0x01]),
            ([0x00, 0x00], [0x01, 0x01, 0x01]),
            ([0x00, 0x11, 0x00], [0x01, 0x02, 0x11, 0x01]),
            ([0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]),
            ([0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]),
            ([0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]),
        ] as [([UInt8], [UInt8])])
    func known(input: [UInt8], encoded: [UInt8]) {
        #expect(COBS.encode(input) == encoded)
        #expect(COBS.decode(encoded) == input)
    }

    @Test("254 and 255 non-zero bytes split into full blocks")
    func longRuns() {
        let run254 = (1...254).map { UInt8($0) }
        #expect(COBS.encode(run254) == [0xFF] + run254 + [0x01])
        #expect(COBS.decode([0xFF] + run254) == run254)
        let run255 = (0...254).map { UInt8($0) }
        #expect(COBS.encode(run255) == [0x01, 0xFF] + Array(run255[1...]) + [0x01])
        #expect(COBS.decode(COBS.encode(run255)) == run255)
    }

    @Test("random round trips contain no zero and stay within the bound")
    func roundTrips() {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<2000 {
            let n = Int.random(in: 0...1200, using: &rng)
            let zeroRate = Int.random(in: 0...4, using: &rng)
            let input = (0..<n).map { _ in
                Int.random(in: 0...9, using: &rng) < zeroRate ? 0 : UInt8.random(in: 1...255, using: &rng)
            }
            let encoded = COBS.encode(input)
            #expect(!encoded.contains(0))
            #expect(encoded.count <= COBS.maxEncodedCount(n))
            #expect(COBS.decode(encoded) == input)
        }
    }

    @Test("a code byte pointing past the end, or a zero inside, is not COBS")
    func invalid() {
        #expect(COBS.decode([0x05, 0x11, 0x22]) == nil)
        #expect(COBS.decode([0x03, 0x11, 0x00]) == nil)
        #expect(COBS.decode([0x00]) == nil)
        #expect(COBS.decode([0xFF, 0x01]) == nil)
    }
}
