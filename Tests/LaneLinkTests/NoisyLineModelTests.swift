import TestKit
import Testing

@testable import LinkTestSupport

/// The impairment model alone: no sockets, so rates and replay are exact.
@Suite struct NoisyLineModelTests {
    @Test func aPerfectLinePassesReadsWhole() {
        var rng = SeededGenerator(seed: 1)
        var counters = LineCounters()
        let input = payload(5000, seed: 1)
        let pieces = LineImpairment.none.apply(to: input, using: &rng, counting: &counters)
        #expect(pieces == [LinePiece(delay: .zero, bytes: input)])
        #expect(counters.bytesIn == 5000 && counters.bytesOut == 5000 && counters.chunks == 1)
    }

    @Test func theSameSeedReplaysTheSameDamage() {
        func run(seed: UInt64) -> [LinePiece] {
            var rng = SeededGenerator(seed: seed)
            var counters = LineCounters()
            return LineImpairment.noisy.apply(to: payload(20_000, seed: 9), using: &rng, counting: &counters)
        }
        #expect(run(seed: 42) == run(seed: 42))
        #expect(run(seed: 42) != run(seed: 43))
    }

    @Test func eachImpairmentHappensAtAboutItsRate() {
        let model = LineImpairment(
            bitFlipPerByte: 0.002, dropChunk: 0.05, duplicateChunk: 0.04, garbageBeforeChunk: 0.03,
            garbageLength: 2...8, delayChunk: 0.02, delay: .microseconds(10) ... .microseconds(50),
            chunkSize: 1...64)
        var rng = SeededGenerator(seed: 2024)
        var counters = LineCounters()
        let input = payload(1 << 20, seed: 3)
        let pieces = model.apply(to: input, using: &rng, counting: &counters)

        let chunks = Double(counters.chunks)
        // About 32 000 chunks of 1 to 64 bytes; a 15 % band is several standard deviations wide.
        #expect(abs(Double(counters.chunks) - Double(input.count) / 32.5) < Double(input.count) / 32.5 * 0.05)
        #expect(abs(Double(counters.chunksDropped) / chunks - 0.05) < 0.05 * 0.15)
        #expect(abs(Double(counters.chunksDuplicated) / chunks - 0.04) < 0.04 * 0.15)
        #expect(abs(Double(counters.garbageInjections) / chunks - 0.03) < 0.03 * 0.15)
        #expect(abs(Double(counters.chunksDelayed) / chunks - 0.02) < 0.02 * 0.2)
        let survivingBytes = counters.bytesIn - counters.bytesDropped
        #expect(abs(Double(counters.bitsFlipped) / Double(survivingBytes) - 0.002) < 0.002 * 0.15)
        #expect(counters.garbageBytes >= 2 * counters.garbageInjections)
        #expect(counters.garbageBytes <= 8 * counters.garbageInjections)

        // The counters add up to what comes out.
        let out = pieces.reduce(0) { $0 + $1.bytes.count }
        #expect(out == counters.bytesOut)
        let duplicatedBytes = out - counters.garbageBytes - survivingBytes
        #expect(duplicatedBytes > 0)
        #expect(
            pieces.allSatisfy {
                $0.delay == .zero || (.microseconds(10) ... .microseconds(50)).contains($0.delay)
            })
        #expect(pieces.filter { $0.delay > .zero }.count == counters.chunksDelayed)
    }

    @Test func aFlippedByteDiffersInExactlyOneBit() {
        var rng = SeededGenerator(seed: 5)
        var counters = LineCounters()
        let input = payload(100_000, seed: 5)
        let output = LineImpairment(bitFlipPerByte: 0.01).apply(to: input, using: &rng, counting: &counters)
            .flatMap(\.bytes)
        #expect(output.count == input.count)
        let differences = zip(input, output).map { ($0 ^ $1).nonzeroBitCount }
        #expect(differences.allSatisfy { $0 <= 1 })
        #expect(differences.reduce(0, +) == counters.bitsFlipped)
        #expect((850...1150).contains(counters.bitsFlipped))
    }
}
