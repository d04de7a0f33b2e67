/// A latency histogram for the status report and the benchmark, in the
/// manner of HdrHistogram: log-linear buckets (32 per power of two, so any
/// figure is within 1.6 % of the true sample), O(1) to record, fixed
/// memory however long the lane runs, and cheap to query while the lane's
/// actor waits.
public struct LatencyRecorder: Sendable {
    private static let subBuckets = 32
    /// Powers of two of microseconds covered: up to 2^40 µs, about 12 days.
    private static let magnitudes = 40
    private var buckets = [UInt32](repeating: 0, count: subBuckets * (magnitudes + 1))
    public private(set) var count = 0

    public init() {}

    public mutating func record(_ sample: Duration) {
        count += 1
        buckets[Self.index(max(0, sample.microseconds))] &+= 1
    }

    /// Median and 99th percentile (nearest rank), as each bucket's midpoint.
    public var figures: LatencyFigures? {
        guard let median = percentile(0.5), let p99 = percentile(0.99) else { return nil }
        return LatencyFigures(samples: count, medianMicroseconds: median, p99Microseconds: p99)
    }

    /// The `p` quantile (0 to 1, nearest rank) in microseconds; nil without samples.
    public func percentile(_ p: Double) -> Double? {
        guard count > 0 else { return nil }
        let wanted = max(1, Int((p * Double(count)).rounded(.up)))
        var seen = 0
        for (index, n) in buckets.enumerated() where n > 0 {
            seen += Int(n)
            if seen >= wanted { return Self.midpoint(index) }
        }
        return Self.midpoint(buckets.count - 1)
    }

    /// Values below 32 µs get a bucket per microsecond; above, each power of
    /// two is cut into 32 equal buckets.
    static func index(_ microseconds: Double) -> Int {
        let value = UInt64(min(microseconds, 0x1p40 - 1))
        guard value >= UInt64(subBuckets) else { return Int(value) }
        // value in [2^k, 2^(k+1)), k >= 5: magnitude k - 4, buckets 2^(k-5) wide.
        let magnitude = 63 - value.leadingZeroBitCount - 4
        let sub = Int(value >> UInt64(magnitude - 1)) - subBuckets
        return min(magnitude * subBuckets + sub, subBuckets * (magnitudes + 1) - 1)
    }

    static func midpoint(_ index: Int) -> Double {
        guard index >= subBuckets else { return Double(index) }
        let magnitude = index / subBuckets
        let sub = index % subBuckets
        let low = Double((subBuckets + sub) << (magnitude - 1))
        return low + Double(1 << (magnitude - 1)) / 2
    }
}

/// Median and p99 of a latency, in microseconds.
public struct LatencyFigures: Sendable, Hashable, Codable {
    /// Samples since laned started; the figures are over all of them.
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
