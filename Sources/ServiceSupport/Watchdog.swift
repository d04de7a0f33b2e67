import Foundation

/// One part of a server that must make progress for the server to count as
/// alive: an event loop group, a store, a link server. ``check`` does one
/// trivial thing through that part (a no-op on each event loop, `SELECT 1`,
/// a status read) and returns; the watchdog gives it a deadline.
public struct LivenessProbe: Sendable {
    public var name: String
    public var check: @Sendable () async throws -> Void

    public init(_ name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }
}

/// What became of one probe in one round.
public enum ProbeOutcome: Sendable, Hashable {
    case passed
    case failed(String)
    /// No answer within the deadline.
    case timedOut
    /// The previous round's check has not come back yet, so none was started.
    case stillWaiting
}

/// The watchdog's rule, a pure function: systemd hears `WATCHDOG=1` only
/// after a round in which every probe passed. A probe that throws, times
/// out or is still stuck from an earlier round withholds it, and systemd
/// restarts the server once `WatchdogSec` passes without one.
public enum Liveness {
    /// The notify message for a round's outcomes: `WATCHDOG=1` when all
    /// passed, otherwise a `STATUS=` line naming what is stuck (shown by
    /// `systemctl status`) and no watchdog ping.
    public static func message(for outcomes: [(name: String, outcome: ProbeOutcome)]) -> String {
        let stuck = outcomes.filter { $0.outcome != .passed }
        guard !stuck.isEmpty else { return "WATCHDOG=1" }
        let parts = stuck.map { name, outcome in
            switch outcome {
            case .passed: "\(name) ok"
            case .failed(let why): "\(name) failed: \(why)"
            case .timedOut: "\(name) did not answer in time"
            case .stillWaiting: "\(name) still stuck"
            }
        }
        return "STATUS=not alive: " + parts.joined(separator: "; ")
    }
}

/// Runs the probes every ``interval`` (half of systemd's `WATCHDOG_USEC`)
/// and sends what ``Liveness/message(for:)`` says.
///
/// A check that hangs (a frozen SQLite call, a blocked event loop) is left
/// behind, never waited for: its deadline ends the round, and later rounds
/// report it ``ProbeOutcome/stillWaiting`` rather than pile up more checks
/// behind it.
public final class Watchdog: Sendable {
    public let probes: [LivenessProbe]
    public let interval: Duration
    public let deadline: Duration
    private let send: @Sendable (String) -> Void
    private let sleep: @Sendable (Duration) async throws -> Void
    private let outstanding = Locked<Set<String>>([])

    /// - Parameters:
    ///   - deadline: How long a check may take; defaults to half the
    ///     interval, so that a round with a stuck probe ends, and says so
    ///     (`STATUS=`), at 1.5 intervals after the last ping: before systemd's
    ///     watchdog (two intervals) runs out and kills the process.
    ///   - send: Delivers a notify message (``SystemdNotifier/send(_:)``).
    ///   - sleep: Waits between rounds (tests drive it).
    public init(
        probes: [LivenessProbe], interval: Duration, deadline: Duration? = nil,
        send: @escaping @Sendable (String) -> Void,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.probes = probes
        self.interval = interval
        self.deadline = deadline ?? interval / 2
        self.send = send
        self.sleep = sleep
    }

    /// Rounds until cancelled.
    public func run() async {
        while !Task.isCancelled {
            send(Liveness.message(for: await round()))
            do { try await sleep(interval) } catch { return }
        }
    }

    /// One round: every probe at once, each against the deadline.
    public func round() async -> [(name: String, outcome: ProbeOutcome)] {
        await withTaskGroup(of: (Int, ProbeOutcome).self) { group in
            for (index, probe) in probes.enumerated() {
                group.addTask { (index, await self.attempt(probe)) }
            }
            var outcomes = [ProbeOutcome](repeating: .stillWaiting, count: probes.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return zip(probes, outcomes).map { ($0.name, $1) }
        }
    }

    private func attempt(_ probe: LivenessProbe) async -> ProbeOutcome {
        let started = outstanding.withLock { $0.insert(probe.name).inserted }
        guard started else { return .stillWaiting }
        let answer = Answer()
        // Unstructured, so that a check that never returns does not hold the
        // round (a task group waits for all its children).
        let check = Task {
            let outcome: ProbeOutcome
            do {
                try await probe.check()
                outcome = .passed
            } catch {
                outcome = .failed("\(error)")
            }
            outstanding.withLock { _ = $0.remove(probe.name) }
            answer.give(outcome)
        }
        let timer = Task { [deadline] in
            try? await Task.sleep(for: deadline)
            answer.give(.timedOut)
        }
        let outcome = await answer.value()
        timer.cancel()
        if outcome == .timedOut { check.cancel() }
        return outcome
    }
}

/// The first outcome given wins; later ones are dropped.
private final class Answer: Sendable {
    private let state = Locked<(outcome: ProbeOutcome?, waiter: CheckedContinuation<ProbeOutcome, Never>?)>(
        (nil, nil))

    func give(_ outcome: ProbeOutcome) {
        let waiter: CheckedContinuation<ProbeOutcome, Never>? = state.withLock { s in
            guard s.outcome == nil else { return nil }
            s.outcome = outcome
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: outcome)
    }

    func value() async -> ProbeOutcome {
        await withCheckedContinuation { continuation in
            let ready: ProbeOutcome? = state.withLock { s in
                if let outcome = s.outcome { return outcome }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
