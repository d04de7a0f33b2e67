/// Which of a lane's central endpoints to connect to next, and after how
/// long: a pure value the link client feeds the outcome of each attempt.
///
/// A lane's config lists one or more central nodes in order
/// (`link.tcp.endpoints`). The policy (`docs/link-operations.md`, "Failover"):
/// - **stay where it works**: an established session keeps its endpoint for
///   as long as it lives; the lane never moves back to an earlier endpoint
///   while a later one works;
/// - **move on at once when a node fails**: a connect that fails, a
///   session that ends before it was established, or an established one
///   that dies moves to the next endpoint in order, after only a short
///   jittered pause (up to the backoff's `base`, 250 ms by default), so that
///   a lane whose node was killed is linked to the next within its
///   `link.dead_after` plus a connect;
/// - **back off after a whole round**: once every endpoint has failed in a
///   row since the last established session, the wait is the
///   ``ReconnectBackoff``'s next delay (exponential, capped, jittered), and
///   the next round starts with the endpoint after the last one tried;
///   since a round that begins with a dead session begins at the endpoint
///   that worked, the next round tries that one first again.
///
/// With one endpoint (a serial line, or `link.tcp.host`/`port`) every
/// failure is a whole round, so it waits the backoff's delay each time,
/// exactly as before failover existed.
///
/// ```swift
/// var rotation = EndpointRotation(endpoints: 2)
/// rotation.handle(.connectFailed, using: &random)   // .connect(endpoint: 1, after: <= 250 ms)
/// rotation.handle(.established(at: now), using: &random)  // .keep
/// ```
public struct EndpointRotation: Sendable, Hashable {
    /// What happened to the attempt on ``current``.
    public enum Event: Sendable, Hashable {
        /// The transport could not be opened (refused, timed out, no route).
        case connectFailed
        /// The handshake completed: the session is up on ``current``.
        case established(at: SessionInstant)
        /// The session on ``current`` ended: before it was established (a
        /// refusal, a handshake timeout) or after (the node died, the line
        /// went silent for `dead_after`). The rotation knows which.
        case sessionEnded(at: SessionInstant)
    }

    /// What the client does next.
    public enum Action: Sendable, Hashable {
        /// Nothing: the session is up; wait for it to end.
        case keep
        /// Wait `after`, then open endpoint number `endpoint` (from 0, in the
        /// config's order).
        case connect(endpoint: Int, after: Duration)
    }

    /// How many endpoints there are, at least 1.
    public let endpoints: Int
    /// The endpoint being tried or linked to now.
    public private(set) var current = 0
    /// When the session on ``current`` was established; nil while none is.
    public private(set) var establishedAt: SessionInstant?
    /// Attempts that failed in a row since the last stable session or the
    /// last backoff; a round is over when it reaches ``endpoints``.
    public private(set) var failuresInRound = 0
    /// The wait after a whole round failed; its `stableAfter` also says
    /// which sessions proved their endpoint good.
    public private(set) var backoff: ReconnectBackoff

    /// Whether a session is established on ``current``.
    public var isEstablished: Bool { establishedAt != nil }

    /// - Parameters:
    ///   - endpoints: How many endpoints, at least 1; the first attempt is on endpoint 0.
    ///   - backoff: The wait after every endpoint failed; its `base` also
    ///     bounds the jittered pause before moving to the next endpoint
    ///     (no pause with `.none` jitter).
    public init(endpoints: Int, backoff: ReconnectBackoff.Configuration = .init()) {
        precondition(endpoints >= 1, "a lane needs at least one central endpoint")
        self.endpoints = endpoints
        self.backoff = ReconnectBackoff(configuration: backoff)
    }

    /// Feeds the outcome of the attempt on ``current``; returns what to do next.
    public mutating func handle(_ event: Event, using random: inout some RandomNumberGenerator) -> Action {
        switch event {
        case .established(let now):
            establishedAt = now
            backoff.sessionEstablished(at: now)
            return .keep
        case .sessionEnded(let now):
            if let since = establishedAt {
                establishedAt = nil
                backoff.sessionEnded(at: now)
                // A session that stayed up proved its endpoint: a new round
                // begins with it, and its failure is the round's first. One
                // that dropped soon after its handshake (a node refusing
                // work, crashing on the hello) counts as one more failure,
                // so nodes that all do that are still backed off from.
                if now - since >= backoff.configuration.stableAfter { failuresInRound = 0 }
            }
            return failed(using: &random)
        case .connectFailed:
            // A connect cannot fail while a session is up; if the executor
            // says so anyway, the session is gone.
            establishedAt = nil
            return failed(using: &random)
        }
    }

    private mutating func failed(using random: inout some RandomNumberGenerator) -> Action {
        failuresInRound += 1
        current = (current + 1) % endpoints
        if failuresInRound >= endpoints {
            failuresInRound = 0
            return .connect(endpoint: current, after: backoff.nextDelay(using: &random))
        }
        return .connect(endpoint: current, after: switchPause(using: &random))
    }

    /// The pause before trying the next endpoint within a round: short, and
    /// jittered so that the lanes of a node that died do not all reach the
    /// next node in the same millisecond.
    private func switchPause(using random: inout some RandomNumberGenerator) -> Duration {
        switch backoff.configuration.jitter {
        case .none: .zero
        case .full, .decorrelated: ReconnectBackoff.uniform(.zero, backoff.configuration.base, &random)
        }
    }
}
