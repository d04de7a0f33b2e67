import TestKit

/// What a noisy line does to the bytes passing one way, chunk by chunk.
///
/// A chunk is what one read delivered, or, with ``chunkSize`` set, a piece of
/// that cut to a random length first, so that damage lands at random places
/// rather than where the sender's writes happened to end. For each chunk, in
/// this order: garbage may be injected before it, it may be dropped, each byte
/// may have one bit flipped, it may be delayed, it may be sent twice, and it
/// may be held back and sent after the next chunk (reordered). Every choice
/// comes from a seeded generator, so a failing run can be replayed.
public struct LineImpairment: Sendable, Hashable {
    /// Probability that a byte has one of its bits flipped.
    public var bitFlipPerByte: Double
    /// Probability that a chunk is lost.
    public var dropChunk: Double
    /// Probability that a chunk is delivered twice, back to back.
    public var duplicateChunk: Double
    /// Probability that random bytes are injected before a chunk.
    public var garbageBeforeChunk: Double
    /// How many garbage bytes one injection adds.
    public var garbageLength: ClosedRange<Int>
    /// Probability that a chunk waits before it is passed on. Later chunks wait
    /// behind it: a line delays, it does not reorder.
    public var delayChunk: Double
    /// How long a delayed chunk waits.
    public var delay: ClosedRange<Duration>
    /// Probability that a chunk is held back and sent after the next one (the
    /// two swap places). A held chunk that no next chunk passes within the
    /// pump's reorder window is sent on its own, so a quiet line does not stall.
    public var reorderChunk: Double
    /// Cut reads into chunks of a random length in this range; `nil` keeps reads whole.
    public var chunkSize: ClosedRange<Int>?

    public init(
        bitFlipPerByte: Double = 0, dropChunk: Double = 0, duplicateChunk: Double = 0,
        garbageBeforeChunk: Double = 0, garbageLength: ClosedRange<Int> = 1...16, delayChunk: Double = 0,
        delay: ClosedRange<Duration> = .milliseconds(1) ... .milliseconds(5), reorderChunk: Double = 0,
        chunkSize: ClosedRange<Int>? = nil
    ) {
        precondition(garbageLength.lowerBound >= 1, "an injection adds at least one byte")
        precondition(chunkSize.map { $0.lowerBound >= 1 } ?? true, "chunks hold at least one byte")
        self.bitFlipPerByte = bitFlipPerByte
        self.dropChunk = dropChunk
        self.duplicateChunk = duplicateChunk
        self.garbageBeforeChunk = garbageBeforeChunk
        self.garbageLength = garbageLength
        self.delayChunk = delayChunk
        self.delay = delay
        self.reorderChunk = reorderChunk
        self.chunkSize = chunkSize
    }

    /// A perfect line: every byte passes unchanged, in the pieces it arrived in.
    public static let none = LineImpairment()

    /// A line bad enough to exercise resynchronisation, loss and resend, yet
    /// good enough that most frames of a few dozen bytes get through.
    public static let noisy = LineImpairment(
        bitFlipPerByte: 0.000_5, dropChunk: 0.01, duplicateChunk: 0.01, garbageBeforeChunk: 0.02,
        delayChunk: 0.02, delay: .milliseconds(1) ... .milliseconds(3), chunkSize: 1...64)

    /// Whether this model can change, lose, add or hold back anything.
    public var isTransparent: Bool {
        bitFlipPerByte == 0 && dropChunk == 0 && duplicateChunk == 0 && garbageBeforeChunk == 0
            && delayChunk == 0 && reorderChunk == 0
    }
}

/// What a noisy line did, one direction, summed over its connections.
public struct LineCounters: Sendable, Hashable, Codable {
    /// Bytes read from the sending side.
    public var bytesIn = 0
    /// Bytes written to the receiving side, garbage and duplicates included.
    public var bytesOut = 0
    /// Chunks the impairment model considered.
    public var chunks = 0
    /// Bytes that had a bit flipped (one bit each).
    public var bitsFlipped = 0
    public var chunksDropped = 0
    public var bytesDropped = 0
    public var chunksDuplicated = 0
    public var garbageInjections = 0
    public var garbageBytes = 0
    public var chunksDelayed = 0
    /// Chunks held back and sent after the chunk that followed them.
    public var chunksReordered = 0
    /// Bytes that arrived while the cable was cut and went nowhere.
    public var bytesLostToCut = 0
    /// Bytes read while the line was blackholed and discarded.
    public var bytesLostToBlackhole = 0

    public init() {}

    static func += (lhs: inout LineCounters, rhs: LineCounters) {
        lhs.bytesIn += rhs.bytesIn
        lhs.bytesOut += rhs.bytesOut
        lhs.chunks += rhs.chunks
        lhs.bitsFlipped += rhs.bitsFlipped
        lhs.chunksDropped += rhs.chunksDropped
        lhs.bytesDropped += rhs.bytesDropped
        lhs.chunksDuplicated += rhs.chunksDuplicated
        lhs.garbageInjections += rhs.garbageInjections
        lhs.garbageBytes += rhs.garbageBytes
        lhs.chunksDelayed += rhs.chunksDelayed
        lhs.chunksReordered += rhs.chunksReordered
        lhs.bytesLostToCut += rhs.bytesLostToCut
        lhs.bytesLostToBlackhole += rhs.bytesLostToBlackhole
    }
}

/// The two directions of a lane link through a proxy.
public enum LineDirection: Sendable, Hashable, CaseIterable {
    /// From the lane (the side that connects to the proxy, or opens ``NoisyPtyProxy/lanePath``).
    case laneToCentral
    /// From central (the proxy's target, or the side that opens ``NoisyPtyProxy/centralPath``).
    case centralToLane
}

/// One piece of output: wait `delay`, then write `bytes`.
struct LinePiece: Sendable, Equatable {
    var delay: Duration
    var bytes: [UInt8]
}

extension LineImpairment {
    /// Applies the model to one read's worth of bytes, as one call: a chunk
    /// still held back for reordering at the end is sent last.
    func apply(to input: [UInt8], using rng: inout SeededGenerator, counting counters: inout LineCounters)
        -> [LinePiece]
    {
        var held: [LinePiece] = []
        var pieces = apply(to: input, using: &rng, holding: &held, counting: &counters)
        counters.bytesOut += held.reduce(0) { $0 + $1.bytes.count }
        pieces += held
        return pieces
    }

    /// Applies the model to one read's worth of bytes. `held` carries a chunk
    /// held back for reordering from one read to the next: the first chunk
    /// that passes it releases it. Its bytes count in `bytesOut` once they are
    /// returned (or flushed by the caller).
    func apply(
        to input: [UInt8], using rng: inout SeededGenerator, holding held: inout [LinePiece],
        counting counters: inout LineCounters
    ) -> [LinePiece] {
        counters.bytesIn += input.count
        guard !isTransparent || chunkSize != nil || !held.isEmpty else {
            counters.chunks += 1
            counters.bytesOut += input.count
            return [LinePiece(delay: .zero, bytes: input)]
        }
        var pieces: [LinePiece] = []
        var start = 0
        while start < input.count {
            let length = chunkSize.map { Int.random(in: $0, using: &rng) } ?? input.count
            let end = min(input.count, start + length)
            pieces += impair(Array(input[start..<end]), using: &rng, holding: &held, counting: &counters)
            start = end
        }
        counters.bytesOut += pieces.reduce(0) { $0 + $1.bytes.count }
        return pieces
    }

    private func impair(
        _ chunk: [UInt8], using rng: inout SeededGenerator, holding held: inout [LinePiece],
        counting counters: inout LineCounters
    ) -> [LinePiece] {
        counters.chunks += 1
        var pieces: [LinePiece] = []
        if rng.chance(garbageBeforeChunk) {
            let garbage = (0..<Int.random(in: garbageLength, using: &rng)).map { _ in
                UInt8.random(in: 0...255, using: &rng)
            }
            counters.garbageInjections += 1
            counters.garbageBytes += garbage.count
            pieces.append(LinePiece(delay: .zero, bytes: garbage))
        }
        if rng.chance(dropChunk) {
            counters.chunksDropped += 1
            counters.bytesDropped += chunk.count
            return pieces
        }
        var bytes = chunk
        if bitFlipPerByte > 0 {
            for index in bytes.indices where rng.chance(bitFlipPerByte) {
                bytes[index] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                counters.bitsFlipped += 1
            }
        }
        var wait = Duration.zero
        if rng.chance(delayChunk) {
            wait = Self.random(in: delay, using: &rng)
            counters.chunksDelayed += 1
        }
        var own = [LinePiece(delay: wait, bytes: bytes)]
        if rng.chance(duplicateChunk) {
            counters.chunksDuplicated += 1
            own.append(LinePiece(delay: .zero, bytes: bytes))
        }
        if !held.isEmpty {
            // This chunk passes the one held back, which follows it at once.
            pieces += own + held
            held = []
        } else if rng.chance(reorderChunk) {
            // Garbage already on the line stays where it is; the chunk waits.
            counters.chunksReordered += 1
            held = own
        } else {
            pieces += own
        }
        return pieces
    }

    private static func random(in range: ClosedRange<Duration>, using rng: inout SeededGenerator) -> Duration
    {
        let low = range.lowerBound / .nanoseconds(1)
        let high = range.upperBound / .nanoseconds(1)
        return .nanoseconds(Int64(Double.random(in: low...high, using: &rng)))
    }
}
