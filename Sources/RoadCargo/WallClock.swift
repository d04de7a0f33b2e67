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
