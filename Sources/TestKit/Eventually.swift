/// Polls `condition` until it holds or `timeout` of waiting has passed on
/// `clock`, and says whether it held.
///
/// Only the time this task spends in its own naps counts, and a nap that
/// overslept counts as at most ten naps: on a busy 2-core machine other work
/// can hold every cooperative thread for seconds, and a plain deadline then
/// expired before the code under test had a chance to run (CI failed so).
/// Prefer waiting on an event (a stream, a continuation) where the code under
/// test offers one; poll only for state that announces nothing.
///
/// The default wait is a minute of naps: when the whole suite starts, some
/// 800 tests share two cores and a debug build's handshakes, and 20 s of
/// naps ran out in CI before 20 link requests were answered (the condition
/// held a moment later). A condition that never holds fails all the same,
/// only later.
///
/// - Parameters:
///   - timeout: how long to wait, measured on `clock`.
///   - poll: the nap between two looks at `condition`.
///   - clock: the clock the naps run on; a test's own clock where it has one.
public func eventually<C: Clock<Duration>>(
    within timeout: Duration = .seconds(60), every poll: Duration = .milliseconds(20),
    on clock: C = ContinuousClock(), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    var waited = Duration.zero
    while waited < timeout {
        if try await condition() { return true }
        let before = clock.now
        try? await clock.sleep(for: poll, tolerance: nil)
        waited += min(before.duration(to: clock.now), poll * 10)
    }
    return try await condition()
}

/// Like ``eventually(within:every:on:_:)``, but a timeout is an error that
/// names what was awaited and where: `try await eventually("connected") { ... }`.
/// A test stops at the first thing that never happened, instead of failing
/// again on everything that follows from it.
/// - Throws: ``WaitTimedOut``, or what `condition` throws.
public func eventually<C: Clock<Duration>>(
    _ what: String, within timeout: Duration = .seconds(60), every poll: Duration = .milliseconds(20),
    on clock: C = ContinuousClock(), fileID: String = #fileID, line: Int = #line,
    _ condition: () async throws -> Bool
) async throws {
    if try await eventually(within: timeout, every: poll, on: clock, condition) { return }
    throw WaitTimedOut(what: what, timeout: timeout, fileID: fileID, line: line)
}

/// A condition awaited with ``eventually(_:within:every:on:fileID:line:_:)`` never held.
public struct WaitTimedOut: Error, CustomStringConvertible, Sendable {
    /// What the test waited for, in its words.
    public let what: String
    public let timeout: Duration
    public let fileID: String
    public let line: Int

    public var description: String { "timed out after \(timeout) waiting for \(what) (\(fileID):\(line))" }
}
