import Foundation
import LaneCore
import RoadCargo
import Synchronization

/// Runs the lane's timers. The lane state machine only says "start" and
/// "cancel"; whoever owns time decides when a timer fires, so production
/// uses the host's clock and the simulator and tests move time themselves.
public protocol LaneTimerScheduler: Sendable {
    /// Starts `timer`, replacing a running one of the same id; `fire` runs
    /// once when it expires unless it is cancelled or replaced first. The
    /// lane's `fire` queues the firing on its input stream and returns once
    /// the lane has handled it (``LaneInputs``).
    func schedule(_ timer: LaneTimer, after delay: Duration, fire: @escaping @Sendable () async -> Void)
    func cancel(_ timer: LaneTimer)
}

/// Timers on the host's monotonic clock.
public final class SystemTimerScheduler: LaneTimerScheduler {
    private let running = Mutex<[LaneTimer: Task<Void, Never>]>([:])

    public init() {}

    public func schedule(
        _ timer: LaneTimer, after delay: Duration, fire: @escaping @Sendable () async -> Void
    ) {
        let task = Task {
            do { try await Task.sleep(for: delay) } catch {
                // Cancelled or replaced before it expired: it does not fire.
                return
            }
            await fire()
        }
        running.withLock { $0.updateValue(task, forKey: timer) }?.cancel()
    }

    public func cancel(_ timer: LaneTimer) {
        running.withLock { $0.removeValue(forKey: timer) }?.cancel()
    }
}

/// Timers on a ``SimulatedWallClock``: nothing fires until ``advance(by:)``
/// moves the clock past a deadline; then the due timers fire in deadline
/// order, each with the clock set to its own deadline. Several lanes share
/// one clock through ``scoped(_:)``: their timers fire in one order.
public final class SimulatedTimerScheduler: LaneTimerScheduler {
    private struct Key: Hashable {
        var scope: String
        var timer: LaneTimer
    }

    private struct Pending {
        var deadline: Date
        var generation: UInt64
        var fire: @Sendable () async -> Void
    }

    public let clock: SimulatedWallClock
    private let pending = Mutex<(timers: [Key: Pending], generation: UInt64)>(([:], 0))

    public init(clock: SimulatedWallClock) { self.clock = clock }

    public func schedule(
        _ timer: LaneTimer, after delay: Duration, fire: @escaping @Sendable () async -> Void
    ) {
        schedule(Key(scope: "", timer: timer), after: delay, fire: fire)
    }

    public func cancel(_ timer: LaneTimer) { cancel(Key(scope: "", timer: timer)) }

    /// The timers of one lane (`scope` is its id) on this shared clock.
    public func scoped(_ scope: String) -> any LaneTimerScheduler { Scoped(scope: scope, timers: self) }

    private struct Scoped: LaneTimerScheduler {
        let scope: String
        let timers: SimulatedTimerScheduler

        func schedule(_ timer: LaneTimer, after delay: Duration, fire: @escaping @Sendable () async -> Void) {
            timers.schedule(Key(scope: scope, timer: timer), after: delay, fire: fire)
        }

        func cancel(_ timer: LaneTimer) { timers.cancel(Key(scope: scope, timer: timer)) }
    }

    private func schedule(_ key: Key, after delay: Duration, fire: @escaping @Sendable () async -> Void) {
        let deadline = clock.now().addingTimeInterval(delay.timeInterval)
        pending.withLock {
            $0.generation += 1
            $0.timers[key] = Pending(deadline: deadline, generation: $0.generation, fire: fire)
        }
    }

    private func cancel(_ key: Key) {
        _ = pending.withLock { $0.timers.removeValue(forKey: key) }
    }

    /// The unscoped timers running now and when each fires.
    public var deadlines: [LaneTimer: Date] {
        pending.withLock { state in
            Dictionary(
                state.timers.filter { $0.key.scope.isEmpty }.map { ($0.key.timer, $0.value.deadline) },
                uniquingKeysWith: { first, _ in first })
        }
    }

    /// Moves the clock forward by `seconds`, firing every timer that falls due
    /// on the way (a fired timer may start others; those fire too if due).
    public func advance(by seconds: TimeInterval) async {
        let end = clock.now().addingTimeInterval(seconds)
        while true {
            let due: Pending? = pending.withLock { state in
                guard
                    let next = state.timers.filter({ $0.value.deadline <= end })
                        .min(by: {
                            ($0.value.deadline, $0.value.generation) < (
                                $1.value.deadline, $1.value.generation
                            )
                        })
                else { return nil }
                state.timers[next.key] = nil
                return next.value
            }
            guard let timer = due else { break }
            if timer.deadline > clock.now() { clock.set(timer.deadline) }
            await timer.fire()
        }
        if end > clock.now() { clock.set(end) }
    }
}

extension Duration {
    /// Seconds as a `TimeInterval`, for `Date` arithmetic.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
