/// Software debounce and stuck-button detection for one input line, as a value.
///
/// A mechanical contact bounces for a few milliseconds when it closes and
/// opens, and a long cable to a roadside button picks up spikes; the kernel
/// reports every one of those as an edge. This value turns the edges into
/// clean presses and releases:
///
/// - **A level counts once it has been stable for the debounce time**: no edge
///   for `debounce` after the last one. A burst of bounces therefore gives one
///   press, reported `debounce` after the contact stopped moving.
/// - **The reported timestamp is the kernel's timestamp of the first edge of
///   the burst**: when the driver's finger closed the contact, not when the
///   bouncing ended or when userspace read it.
/// - **A press shorter than the debounce time is dropped.** Active and back
///   before it ever held still for `debounce` is a spike or a brush, not a
///   press; a person's press lasts 50 ms or more, the default debounce is 30.
/// - **Every edge restarts the wait**, also one that repeats the level before
///   it: the v1 kernel reads the level in its interrupt thread, so a bounce can
///   show up as two rising edges in a row, and both mean "still moving".
/// - **Stuck**: active for `stuckAfter` (from the reported press) raises
///   ``Change/stuck(pressedAtNanoseconds:)`` once; the release that ends it is
///   reported as a release followed by ``Change/unstuck(pressedAtNanoseconds:)``.
///
/// Edge timestamps and `now` must be on the same clock (the kernel's
/// `CLOCK_MONOTONIC`, see ``MonotonicTimeSource``). The value never reads a
/// clock itself, so tests drive it with plain numbers.
public struct ButtonDebouncer: Sendable, Hashable {
    /// What the owner of a debouncer passes on.
    public enum Change: Sendable, Hashable {
        case pressed(atNanoseconds: UInt64)
        case released(atNanoseconds: UInt64)
        case stuck(pressedAtNanoseconds: UInt64)
        case unstuck(pressedAtNanoseconds: UInt64)
    }

    /// How long a level must hold before it counts.
    public let debounceNanoseconds: UInt64
    /// How long a press may last before it is a fault; `nil`: never.
    public let stuckAfterNanoseconds: UInt64?

    /// The settled state as last reported.
    public private(set) var isPressed = false
    /// Whether ``Change/stuck(pressedAtNanoseconds:)`` was reported for the current press.
    public private(set) var isStuck = false
    /// The level of the last edge seen, settled or not.
    private var level = false
    /// The first edge since the level was last settled; `nil` when quiet.
    private var burstStart: UInt64?
    private var lastEdge: UInt64 = 0
    private var pressedAt: UInt64 = 0

    public init(debounce: Duration, stuckAfter: Duration?) {
        debounceNanoseconds = debounce.clampedNanoseconds
        stuckAfterNanoseconds = stuckAfter?.clampedNanoseconds
    }

    /// Feeds one edge as the kernel reported it: the line's level after the
    /// edge (`true`: active) and its timestamp.
    ///
    /// Time also passes up to `timestamp` first, so a level that had settled
    /// before this edge is reported before the edge starts a new burst.
    /// Timestamps earlier than the previous edge are taken as equal to it.
    public mutating func edge(active: Bool, atNanoseconds timestamp: UInt64) -> [Change] {
        let at = max(timestamp, lastEdge)
        let changes = advance(toNanoseconds: at)
        if burstStart == nil { burstStart = at }
        level = active
        lastEdge = at
        return changes
    }

    /// Lets time pass to `now` with no edge: reports a level that has now
    /// been stable for the debounce time, and a press that is now stuck.
    public mutating func advance(toNanoseconds now: UInt64) -> [Change] {
        var changes: [Change] = []
        if let start = burstStart, now >= lastEdge.saturatingAdd(debounceNanoseconds) {
            burstStart = nil
            if level != isPressed {
                isPressed = level
                if level {
                    pressedAt = start
                    changes.append(.pressed(atNanoseconds: start))
                } else {
                    changes.append(.released(atNanoseconds: start))
                    if isStuck {
                        isStuck = false
                        changes.append(.unstuck(pressedAtNanoseconds: pressedAt))
                    }
                }
            }
        }
        if let stuckDeadline, now >= stuckDeadline {
            isStuck = true
            changes.append(.stuck(pressedAtNanoseconds: pressedAt))
        }
        return changes
    }

    /// Sets the state from a level read directly (when a line is first
    /// requested, or requested again after its chip came back), at `now`.
    ///
    /// No edge was seen, so becoming active is not reported as a press (a
    /// button held while the lane boots is not a request), but it starts the
    /// stuck timer. Becoming inactive is reported as a release at `now`, so
    /// that no consumer waits for the release of a press it was told about.
    /// A burst in progress is forgotten.
    public mutating func reseed(active: Bool, atNanoseconds now: UInt64) -> [Change] {
        burstStart = nil
        level = active
        var changes: [Change] = []
        if isPressed && !active {
            isPressed = false
            changes.append(.released(atNanoseconds: now))
            if isStuck {
                isStuck = false
                changes.append(.unstuck(pressedAtNanoseconds: pressedAt))
            }
        } else if !isPressed && active {
            isPressed = true
            isStuck = false
            pressedAt = now
        }
        return changes
    }

    /// When ``advance(toNanoseconds:)`` next has something to report if no
    /// edge comes first; `nil` when only an edge can change anything.
    public var nextDeadline: UInt64? {
        let settle = burstStart.map { _ in lastEdge.saturatingAdd(debounceNanoseconds) }
        switch (settle, stuckDeadline) {
        case (let settle?, let stuck?): return min(settle, stuck)
        case (let settle?, nil): return settle
        case (nil, let stuck): return stuck
        }
    }

    /// When the current press becomes stuck; `nil` while a release is still
    /// settling, since the button is already moving.
    private var stuckDeadline: UInt64? {
        guard isPressed, !isStuck, let stuckAfterNanoseconds else { return nil }
        if burstStart != nil && !level { return nil }
        return pressedAt.saturatingAdd(stuckAfterNanoseconds)
    }
}
