import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where the GPIO backends read the time, on the scale of the kernel's edge
/// timestamps: nanoseconds of `CLOCK_MONOTONIC`.
///
/// The libgpiod backend compares kernel timestamps with this source to know
/// when a contact has settled and when a held button counts as stuck; the
/// virtual backend stamps its presses with it. Tests and the simulator inject
/// ``ManualMonotonicTime`` so that those decisions follow the time they set,
/// not the time a test happens to take.
public protocol MonotonicTimeSource: Sendable {
    /// Now, in nanoseconds since an arbitrary start (for the system source,
    /// the kernel's `CLOCK_MONOTONIC`, which is what v1 edge events carry).
    func nanoseconds() -> UInt64

    /// Calls `handler` each time this source is moved forward by hand.
    ///
    /// A backend waiting for a deadline cannot see a manual source move;
    /// this is how it learns to look again. Sources that advance by
    /// themselves never call it.
    func whenAdvanced(_ handler: @escaping @Sendable () -> Void)
}

extension MonotonicTimeSource {
    public func whenAdvanced(_ handler: @escaping @Sendable () -> Void) {}
}

/// The kernel's `CLOCK_MONOTONIC`: what the GPIO character device stamps v1
/// edge events with since Linux 5.7 (Debian 12 runs 6.1).
public struct SystemMonotonicTime: MonotonicTimeSource {
    public init() {}

    public func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}

/// Time that moves only when told to, for tests and the simulator.
public final class ManualMonotonicTime: MonotonicTimeSource {
    private let state: Mutex<(now: UInt64, handlers: [@Sendable () -> Void])>

    /// Starts at `nanoseconds`; the default keeps clear of zero so that
    /// timestamps a little in the past are still representable.
    public init(nanoseconds: UInt64 = 1_000_000_000_000) {
        state = Mutex((nanoseconds, []))
    }

    public func nanoseconds() -> UInt64 {
        state.withLock { $0.now }
    }

    public func whenAdvanced(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.handlers.append(handler) }
    }

    /// Moves time forward by `duration` (negative durations are ignored: this
    /// time is monotonic) and tells every registered backend.
    public func advance(by duration: Duration) {
        let handlers = state.withLock { state in
            state.now &+= duration.clampedNanoseconds
            return state.handlers
        }
        for handler in handlers { handler() }
    }
}

extension Duration {
    /// Whole nanoseconds, with negative durations as zero and huge ones capped.
    var clampedNanoseconds: UInt64 {
        guard self > .zero else { return 0 }
        let (seconds, attoseconds) = components
        let whole = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if whole.overflow { return .max }
        return whole.partialValue.saturatingAdd(UInt64(attoseconds / 1_000_000_000))
    }
}

extension Duration {
    /// "30 ms", "1.5 s", "-2 ms": for messages about configured times.
    var readable: String {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        if abs(milliseconds) < 1000 { return "\(milliseconds) ms" }
        return "\(Double(milliseconds) / 1000) s"
    }
}

extension UInt64 {
    /// `self + other`, stopping at `.max` instead of trapping: deadlines far
    /// in the future are simply never reached.
    func saturatingAdd(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
