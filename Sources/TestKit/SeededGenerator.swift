/// SplitMix64: a small, fast generator fully determined by its seed, which
/// `SystemRandomNumberGenerator` is not, so a failing property test, a noisy
/// line or a simulated day replays exactly. Not for anything secret.
///
/// The one seeded generator of the tests, the benchmarks and the simulator.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A well-mixed seed for sub-stream `stream` of `seed`: one per connection
    /// and direction, so each draws independently yet replays exactly.
    public static func derive(_ seed: UInt64, stream: UInt64) -> UInt64 {
        var generator = SeededGenerator(seed: seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        return generator.next()
    }

    /// True with probability `p`; never draws for 0, so a transparent model costs nothing.
    public mutating func chance(_ p: Double) -> Bool {
        p > 0 && Double.random(in: 0..<1, using: &self) < p
    }
}
