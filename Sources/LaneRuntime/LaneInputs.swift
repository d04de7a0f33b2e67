import LaneCore
import LaneLink
import LinkCore
import Synchronization

/// The lane's one input stream: button edges, the reader's arrivals, link
/// messages turned into inputs, timer firings, control-socket commands, all
/// queued in the order they happen and handled one at a time by
/// ``LaneController/run(heartbeat:)``.
///
/// It exists before the controller, so that the parts that feed it (the
/// link's connection changes, the timers) can be built first and need no
/// late-bound reference to the controller.
public final class LaneInputs: Sendable {
    let stream: AsyncStream<Queued>
    private let continuation: AsyncStream<Queued>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Queued.self)
    }

    /// Queues `input` without waiting (GPIO edges, link state, faults).
    public func post(_ input: LaneInput) {
        continuation.yield(Queued(input: input, received: .now, reply: nil))
    }

    /// Queues `input` and returns once the lane has handled it: journaled,
    /// sent, drawn.
    /// - Throws: `CancellationError` when the lane stopped before handling it.
    public func submit(_ input: LaneInput) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(Queued(input: input, received: .now, reply: Reply(continuation)))
        }
    }

    /// Queues a timer's firing and returns once it is handled or dropped as
    /// stale, so that a simulated clock's `advance` sees its effects.
    /// - Returns: false when the lane had stopped and the firing was dropped.
    func fire(_ timer: LaneTimer, generation: UInt64) async -> Bool {
        do {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<Void, any Error>) in
                enqueue(
                    Queued(
                        input: .timerFired(timer), received: .now, reply: Reply(continuation),
                        timerGeneration: generation))
            }
            return true
        } catch {
            return false
        }
    }

    /// No more inputs: ``LaneController/run(heartbeat:)`` handles those
    /// already queued, then returns. Later inputs are refused.
    public func finish() { continuation.finish() }

    private func enqueue(_ item: Queued) {
        if case .terminated = continuation.yield(item) {
            item.reply?.resume(throwing: CancellationError())
        }
    }
}

/// One queued input and who waits for it.
struct Queued: Sendable {
    var input: LaneInput
    var received: ContinuousClock.Instant
    var reply: Reply?
    /// For a timer's firing: which start of the timer it belongs to.
    var timerGeneration: UInt64? = nil
}

/// The answer to one submitted input, given once. An input dropped unhandled
/// (the lane was cancelled with it still queued) answers `CancellationError`
/// when the queue lets go of it, so no waiter (a control command, a link
/// delivery, a simulated clock's `advance`) hangs on a lane that stopped.
final class Reply: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, any Error>?>

    init(_ continuation: CheckedContinuation<Void, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func resume() { take()?.resume() }

    func resume(throwing error: any Error) { take()?.resume(throwing: error) }

    private func take() -> CheckedContinuation<Void, any Error>? {
        continuation.withLock { held in
            defer { held = nil }
            return held
        }
    }

    deinit { take()?.resume(throwing: CancellationError()) }
}

/// Central's messages on their way from the link client to the controller:
/// a typed channel made before both, so the link can be built first. Each
/// delivery returns once the lane has applied the message, so the link
/// acknowledges only then.
public final class LinkInbox: Sendable {
    private struct Delivery: Sendable {
        var message: LaneMessage
        var reply: Reply
    }

    private let stream: AsyncStream<Delivery>
    private let continuation: AsyncStream<Delivery>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Delivery.self)
    }

    /// Hands `message` to the lane and waits until it is applied.
    /// - Throws: what applying it threw, or `CancellationError` when the lane
    ///   has stopped (the link then ends the session and central resends).
    public func deliver(_ message: LaneMessage) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let delivery = Delivery(message: message, reply: Reply(continuation))
            if case .terminated = self.continuation.yield(delivery) {
                delivery.reply.resume(throwing: CancellationError())
            }
        }
    }

    /// Applies deliveries one at a time, in order, until ``finish()`` or cancellation.
    func serve(_ apply: @Sendable (LaneMessage) async throws -> Void) async {
        for await delivery in stream {
            do {
                try await apply(delivery.message)
                delivery.reply.resume()
            } catch {
                delivery.reply.resume(throwing: error)
            }
        }
    }

    /// Refuses later deliveries; those queued are still applied.
    public func finish() { continuation.finish() }
}
