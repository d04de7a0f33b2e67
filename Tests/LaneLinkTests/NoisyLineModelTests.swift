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

    /// Reordering, chunk by chunk: each held chunk follows the one after it.
    @Test(arguments: [
        // chunk size, input length, expected order of the 4-byte chunks
        (4, 16, [1, 0, 3, 2]),
        (4, 12, [1, 0, 2]),  // the last chunk, held with nothing after it, goes last
        (4, 4, [0]),
    ])
    func everyChunkReorderedSwapsWithTheNext(size: Int, length: Int, order: [Int]) {
        var rng = SeededGenerator(seed: 7)
        var counters = LineCounters()
        let input = (0..<length).map { UInt8($0) }
        let model = LineImpairment(reorderChunk: 1, chunkSize: size...size)
        let output = model.apply(to: input, using: &rng, counting: &counters).flatMap(\.bytes)
        #expect(output == order.flatMap { Array(input[($0 * size)..<($0 * size + size)]) })
        #expect(counters.chunksReordered == (length / size + 1) / 2)
        #expect(counters.bytesIn == length && counters.bytesOut == length)
    }

    @Test func aHeldChunkWaitsForTheNextRead() {
        var rng = SeededGenerator(seed: 8)
        var counters = LineCounters()
        var held: [LinePiece] = []
        let model = LineImpairment(reorderChunk: 1)
        let first = model.apply(to: [1, 2, 3], using: &rng, holding: &held, counting: &counters)
        #expect(first.isEmpty && held.flatMap(\.bytes) == [1, 2, 3])
        #expect(counters.bytesIn == 3 && counters.bytesOut == 0 && counters.chunksReordered == 1)
        // The model went perfect meanwhile: the held chunk still follows the next read.
        let second = LineImpairment.none.apply(to: [4, 5], using: &rng, holding: &held, counting: &counters)
        #expect(second.flatMap(\.bytes) == [4, 5, 1, 2, 3] && held.isEmpty)
        #expect(counters.bytesIn == 5 && counters.bytesOut == 5 && counters.chunksReordered == 1)
    }

    @Test(arguments: [0.01, 0.1, 0.5])
    func reorderingKeepsEveryByteAndHappensAtItsRate(rate: Double) {
        var rng = SeededGenerator(seed: 99)
        var counters = LineCounters()
        // Distinct 4-byte words, so that undoing the swaps must give the input back.
        let words = (0..<20_000).map { UInt32($0) }
        let input = words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
        let model = LineImpairment(reorderChunk: rate, chunkSize: 4...4)
        let output = model.apply(to: input, using: &rng, counting: &counters).flatMap(\.bytes)
        #expect(counters.bytesOut == input.count && output.count == input.count)
        // A chunk is held only when none is, so holds are rate / (1 + rate) of the chunks.
        let expected = Double(counters.chunks) * rate / (1 + rate)
        #expect(abs(Double(counters.chunksReordered) - expected) < expected * 0.15 + 5)
        // Undo: wherever a word is out of place, it and the next one swapped.
        var got = stride(from: 0, to: output.count, by: 4).map { start in
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(output[start + $1]) << (8 * $1) }
        }
        var swaps = 0
        var index = 0
        while index < got.count {
            if got[index] != words[index] {
                #expect(index + 1 < got.count && got[index + 1] == words[index])
                if index + 1 < got.count { got.swapAt(index, index + 1) }
                swaps += 1
                index += 1
            }
            index += 1
        }
        #expect(got == words)
        // A last chunk held with none to pass it goes out in place.
        #expect(swaps == counters.chunksReordered || swaps == counters.chunksReordered - 1)
    }
}
