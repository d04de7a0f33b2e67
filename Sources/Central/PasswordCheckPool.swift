import Foundation
import Synchronization

/// Threads of their own for password hashing (scrypt), with a bounded queue.
///
/// scrypt costs about 0.1 s of CPU and 32 MiB per check and anyone can ask
/// for one, so it must neither run on Swift's cooperative threads (two of
/// them on a two-core server: two log-ins would stall every lane decision)
/// nor queue without end. A full queue refuses at once, before hashing; the
/// log-in route answers that with 503 and `Retry-After`.
public final class PasswordCheckPool: Sendable {
    /// The queue (waiting and running checks together) is full.
    public struct Busy: Error, Sendable {
        public var capacity: Int
    }

    public let threads: Int
    public let capacity: Int
    private let queue: JobQueue
    private let admitted = Mutex(0)

    /// - Parameters:
    ///   - threads: hashing threads; leave the other cores to lanes and the store.
    ///   - capacity: checks admitted at once, running and waiting.
    public init(threads: Int = 1, capacity: Int = 8) {
        precondition(threads >= 1 && capacity >= threads, "a pool needs a thread and room for its work")
        self.threads = threads
        self.capacity = capacity
        queue = JobQueue()
        for index in 0..<threads {
            let thread = Thread { [queue] in queue.work() }
            thread.name = "password-\(index)"
            thread.start()
        }
    }

    deinit { queue.close() }

    /// Checks now admitted (running or waiting).
    public var load: Int { admitted.withLock { $0 } }

    /// Runs `body` on a pool thread.
    /// - Throws: ``Busy`` at once, without running it, when the queue is full.
    public func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws(Busy) -> T {
        let capacity = capacity
        let room = admitted.withLock { count in
            guard count < capacity else { return false }
            count += 1
            return true
        }
        guard room else { throw Busy(capacity: capacity) }
        return await withCheckedContinuation { continuation in
            queue.push {
                let value = body()
                self.admitted.withLock { $0 -= 1 }
                continuation.resume(returning: value)
            }
        }
    }
}

/// Jobs for the pool's threads; the threads hold it, not the pool, so the
/// pool's deinit can close it and let them end.
private final class JobQueue: @unchecked Sendable {
    // Every field is read and written under `condition` only.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var closed = false

    func push(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// A thread's life: take jobs until the queue is closed and empty.
    func work() {
        while let job = next() { job() }
    }

    private func next() -> (@Sendable () -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count, !closed { condition.wait() }
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        }
        return job
    }
}
