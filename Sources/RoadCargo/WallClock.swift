import Foundation
import Synchronization

/// Where every component gets the time. Production uses ``SystemWallClock``;
/// the simulator and tests use ``SimulatedWallClock`` and move it themselves.
///
/// Named apart from the standard library's `Clock`, which measures durations
/// for sleeping; this one answers "what time is it at the lane".
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The host's clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that stands still until it is set or advanced.
public final class SimulatedWallClock: WallClock {
    private let current: Mutex<Date>

    public init(_ start: Date) { current = Mutex(start) }

    public func now() -> Date { current.withLock { $0 } }

    public func set(_ date: Date) { current.withLock { $0 = date } }

    /// Moves the clock forward; a negative step is refused, because time that
    /// runs backwards would let a test pass that production could not.
    @discardableResult
    public func advance(by seconds: TimeInterval) -> Date {
        precondition(seconds >= 0, "a simulated clock only moves forward")
        return current.withLock {
            $0 = $0.addingTimeInterval(seconds)
            return $0
        }
    }
}

/// A clock step that can be changed while the lane runs: whole seconds added
/// to the host's time. Shared by every ``OffsetWallClock`` made on it, so
/// that one step moves them all, as a real clock step moves every reader of
/// the host's clock at once.
public final class ClockOffset: Sendable {
    /// The largest step either way: a week, far beyond any real clock fault
    /// (a lost RTC battery resets to a fixed past date instead, which a
    /// bounded offset cannot model and need not).
    public static let limit: Int64 = 7 * 24 * 3600
    private let seconds: Mutex<Int64>

    public init(seconds: Int64 = 0) { self.seconds = Mutex(seconds) }

    /// The offset now, in seconds.
    public var current: Int64 { seconds.withLock { $0 } }

    /// Sets the offset; returns the one it replaced.
    @discardableResult
    public func set(_ new: Int64) -> Int64 {
        precondition(abs(new) <= Self.limit, "a clock offset is bounded by ClockOffset.limit")
        return seconds.withLock {
            let old = $0
            $0 = new
            return old
        }
    }
}

/// A clock that reads `base` and adds a ``ClockOffset``: laned's business
/// and link clocks, so that a fault campaign can step the lane's time
/// forwards and backwards as an NTP step or a hand-set clock would.
public struct OffsetWallClock: WallClock {
    public let base: any WallClock
    public let offset: ClockOffset

    public init(base: any WallClock, offset: ClockOffset) {
        self.base = base
        self.offset = offset
    }

    public func now() -> Date { base.now().addingTimeInterval(TimeInterval(offset.current)) }
}
