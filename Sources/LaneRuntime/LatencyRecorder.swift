/// Keeps the most recent latency samples of one kind, for the status
/// report and the benchmark: a ring of fixed size, so memory stays flat
/// however long the lane runs.
struct LatencyRecorder: Sendable {
    private var samples: [Duration] = []
    private var next = 0
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int = 20_000) { self.capacity = capacity }

    mutating func record(_ sample: Duration) {
        count += 1
        if samples.count < capacity {
            samples.append(sample)
        } else {
            samples[next] = sample
            next = (next + 1) % capacity
        }
    }

    /// Median and 99th percentile (nearest rank) of the kept samples.
    var figures: LatencyFigures? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func rank(_ p: Double) -> Duration {
            sorted[max(0, min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
        }
        return LatencyFigures(
            samples: count, medianMicroseconds: rank(0.5).microseconds,
            p99Microseconds: rank(0.99).microseconds)
    }
}

/// Median and p99 of a latency, in microseconds.
public struct LatencyFigures: Sendable, Hashable, Codable {
    /// Samples seen in all (the figures are over the most recent ones).
    public var samples: Int
    public var medianMicroseconds: Double
    public var p99Microseconds: Double

    enum CodingKeys: String, CodingKey {
        case samples
        case medianMicroseconds = "median_us"
        case p99Microseconds = "p99_us"
    }
}

extension Duration {
    var microseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
    }
}
