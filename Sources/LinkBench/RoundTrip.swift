import Foundation

/// One way of doing a request and its response over loopback, measured by
/// ``Runner``. The bare TCP baseline and the transport conform; the full
/// lane-link decision round trip (session, framing, signing, acknowledgement)
/// slots in as one more conformance, appended to ``LinkBench/cases``, and is
/// then measured with the same payload sizes and iteration counts and printed
/// with its ratio to the baseline.
protocol RoundTripCase: Sendable {
    /// What the table calls it.
    var name: String { get }
    /// Sets up both ends for requests and responses of `payloadSize` bytes each.
    func prepare(payloadSize: Int) async throws -> any RoundTripper
}

/// Both ends of one set-up case, ready to go.
protocol RoundTripper {
    /// Sends one request and returns when its whole response has arrived.
    mutating func roundTrip() async throws
    /// Tears both ends down.
    func close() async
}

/// Latency figures for one case at one payload size.
struct Figures {
    var median: Duration
    var p99: Duration
    var mean: Duration
    var minimum: Duration

    init(_ samples: [Duration]) {
        precondition(!samples.isEmpty)
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Duration {
            // Nearest rank: the smallest sample with at least p of them at or below it.
            let rank = Int((p * Double(sorted.count)).rounded(.up))
            return sorted[max(0, min(sorted.count - 1, rank - 1))]
        }
        median = percentile(0.5)
        p99 = percentile(0.99)
        minimum = sorted[0]
        mean = sorted.reduce(Duration.zero, +) / sorted.count
    }
}

/// Runs every case at every size: warm-up first, then the timed round trips.
struct Runner {
    var iterations: Int
    var warmUp: Int

    func measure(_ benchCase: any RoundTripCase, payloadSize: Int) async throws -> Figures {
        var tripper = try await benchCase.prepare(payloadSize: payloadSize)
        for _ in 0..<warmUp { try await tripper.roundTrip() }
        let clock = ContinuousClock()
        var samples: [Duration] = []
        samples.reserveCapacity(iterations)
        for _ in 0..<iterations {
            let start = clock.now
            try await tripper.roundTrip()
            samples.append(clock.now - start)
        }
        await tripper.close()
        return Figures(samples)
    }
}

extension Duration {
    /// Microseconds with one decimal: round trips on loopback are tens of them.
    var microsecondsText: String {
        let (seconds, attoseconds) = components
        let micros = Double(seconds) * 1e6 + Double(attoseconds) / 1e12
        return String(format: "%.1f µs", micros)
    }
}
