import Dispatch
import Foundation

/// Where blocking work may run, and the check that it does not run on Swift
/// concurrency's cooperative pool.
///
/// The cooperative pool has one thread per core (two on a lane's computer
/// and on central's test host). A synchronous SQLite call there holds a
/// thread that async work needs; two of them deadlocked clearanced for good.
/// So every synchronous store entry point calls
/// ``assertNotOnCooperativePool(_:file:line:)``, and async code reaches
/// blocking work through GRDB's async API or ``run(_:)`` (`docs/threads.md`).
public enum Blocking {
    /// One serial queue for blocking work that has no executor of its own
    /// (opening a store, a journal's retention pass, a lock another thread
    /// may hold). Serial: such work is rare, and running it one at a time
    /// bounds the threads it can take to one.
    static let queue = DispatchQueue(label: "lanekiosk.blocking", qos: .utility)

    /// Runs `body` on the blocking queue, off the cooperative pool, and
    /// resumes with its result. `body` runs to the end even if the caller is
    /// cancelled: blocking work cannot be interrupted half-way.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Like ``run(_:)``, on a queue of the caller's (a store's own).
    public static func run<T: Sendable>(
        on queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Whether the current thread is running a Swift task, so belongs to
    /// the cooperative pool (or to a custom executor, which is no better
    /// for blocking work).
    public static var onCooperativePool: Bool {
        withUnsafeCurrentTask { $0 != nil }
    }

    /// Stops a debug build when a blocking store call is made from inside a
    /// task. Release builds do nothing (the lint script,
    /// `scripts/check-blocking.sh`, guards them at review time).
    ///
    /// Tests that must call a synchronous entry point from a test function
    /// (which Swift Testing runs in a task) wrap it in ``allowed(_:)``.
    public static func assertNotOnCooperativePool(
        _ what: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
    ) {
        #if DEBUG
            if onCooperativePool && !permitted {
                let message =
                    "\(what()) blocks its thread and was called from a Swift task; "
                    + "use its async form or Blocking.run (docs/threads.md)"
                if let hook = failureHook {
                    hook(message)
                } else {
                    assertionFailure(message, file: file, line: line)
                }
            }
        #endif
    }

    /// Runs `body` with the check switched off on this thread: for start-up
    /// code that runs before anything else needs the pool, and for tests.
    public static func allowed<T>(_ body: () throws -> T) rethrows -> T {
        let before = permitted
        permitted = true
        defer { permitted = before }
        return try body()
    }

    /// Runs `body` with the assertion replaced by a call to `hook`, for this
    /// task only: the test that proves the check fires cannot let it stop
    /// the process, nor hide what other tests running beside it do.
    public static func reportingFailures<T: Sendable>(
        to hook: @escaping @Sendable (String) -> Void, _ body: () async throws -> T
    ) async rethrows -> T {
        try await $failureHook.withValue(hook) { try await body() }
    }

    @TaskLocal private static var failureHook: (@Sendable (String) -> Void)?

    /// Per thread: ``allowed(_:)`` is synchronous, so no other task runs on
    /// the thread while it is set.
    private static var permitted: Bool {
        get { Thread.current.threadDictionary[permissionKey] as? Bool ?? false }
        set { Thread.current.threadDictionary[permissionKey] = newValue }
    }
    private static let permissionKey = "lanekiosk.blocking.permitted"
}

/// A value behind a lock, for the few globals here.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
