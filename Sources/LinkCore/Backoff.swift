/// The wait before the `attempt`-th resend of an unacknowledged data packet:
/// `initial * 2^(attempt-1)`, never more than `cap`.
///
/// No jitter here: resends are per packet on one link and cannot synchronise
/// with other lanes; jitter belongs to reconnecting (``ReconnectBackoff``),
/// where many lanes would otherwise hit a restarted central in step.
public enum ResendBackoff {
    public static func delay(attempt: Int, initial: Duration, cap: Duration) -> Duration {
        precondition(attempt >= 1, "attempts count from 1")
        // 2^20 * 250 ms is already days; stop doubling long before overflow.
        let factor = 1 << min(attempt - 1, 20)
        return min(initial * factor, cap)
    }
}

/// How long a lane waits before each reconnection attempt.
///
/// Exponential with a cap and jitter, as in AWS's "Exponential Backoff and
/// Jitter": when central restarts, a hundred lanes must not all reconnect in
/// the same millisecond. A session that stayed established for
/// ``Configuration/stableAfter`` proves the link good, so the next failure
/// starts again from the base delay; one that drops right after the handshake
/// (central refusing, crashing on our hello) keeps backing off.
public struct ReconnectBackoff: Sendable, Hashable {
    /// How the delay is randomised.
    public enum Jitter: Sendable, Hashable {
        /// Exactly `base * 2^n`, capped. For tests and for a single lane on a
        /// serial line, where nobody competes.
        case none
        /// Uniform in `0 ... min(cap, base * 2^n)`.
        case full
        /// Uniform in `base ... previous * 3`, capped: spreads as well as full
        /// jitter but never retries sooner than `base`.
        case decorrelated
    }

    public struct Configuration: Sendable, Hashable {
        public var base: Duration = .milliseconds(250)
        public var cap: Duration = .seconds(10)
        public var jitter: Jitter = .full
        /// A session established at least this long resets the backoff when it ends.
        public var stableAfter: Duration = .seconds(10)

        public init() {}
    }

    public let configuration: Configuration
    /// Failed attempts since the last reset.
    public private(set) var attempts = 0
    private var previous: Duration
    private var establishedAt: SessionInstant?

    public init(configuration: Configuration = Configuration()) {
        precondition(configuration.base > .zero && configuration.cap >= configuration.base, "0 < base <= cap")
        self.configuration = configuration
        self.previous = configuration.base
    }

    /// The delay before the next attempt; counts the attempt.
    public mutating func nextDelay(using random: inout some RandomNumberGenerator) -> Duration {
        let base = configuration.base
        let cap = configuration.cap
        let exponential = ResendBackoff.delay(attempt: attempts + 1, initial: base, cap: cap)
        attempts += 1
        let delay: Duration
        switch configuration.jitter {
        case .none:
            delay = exponential
        case .full:
            delay = Self.uniform(.zero, exponential, &random)
        case .decorrelated:
            delay = min(cap, Self.uniform(base, max(base, previous * 3), &random))
        }
        previous = delay
        return delay
    }

    /// The link came up: remember when, to judge its stability when it ends.
    public mutating func sessionEstablished(at now: SessionInstant) {
        establishedAt = now
    }

    /// The link went down. Resets the backoff when the session lasted
    /// ``Configuration/stableAfter`` or longer.
    public mutating func sessionEnded(at now: SessionInstant) {
        if let since = establishedAt, now - since >= configuration.stableAfter { reset() }
        establishedAt = nil
    }

    public mutating func reset() {
        attempts = 0
        previous = configuration.base
    }

    /// Uniform over `low ... high` at microsecond resolution, plenty for timers.
    static func uniform(_ low: Duration, _ high: Duration, _ random: inout some RandomNumberGenerator)
        -> Duration
    {
        let lowMicros = Self.micros(low)
        let highMicros = Self.micros(high)
        guard highMicros > lowMicros else { return low }
        return .microseconds(Int64.random(in: lowMicros...highMicros, using: &random))
    }

    private static func micros(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
