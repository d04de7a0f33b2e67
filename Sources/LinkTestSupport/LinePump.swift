import LaneLink
import LinkCore
import Synchronization
import TestKit

/// The settings and counters a proxy shares with its pumps: one impairment
/// model per direction, changeable while traffic flows, whether the cable is
/// cut, and whether the line is blackholed.
final class LineState: Sendable {
    private struct State {
        var models: [LineDirection: LineImpairment]
        var counters: [LineDirection: LineCounters] = [
            .laneToCentral: LineCounters(), .centralToLane: LineCounters(),
        ]
        var cut = false
        var blackhole = false
        /// Tasks waiting for ``heal()``, by ticket.
        var healWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextTicket = 0
    }
    private let state: Mutex<State>

    /// How long a chunk held back for reordering waits for a next chunk to
    /// pass it before it is sent on its own.
    static let reorderWindow = Duration.milliseconds(20)

    init(laneToCentral: LineImpairment, centralToLane: LineImpairment) {
        state = Mutex(State(models: [.laneToCentral: laneToCentral, .centralToLane: centralToLane]))
    }

    func model(_ direction: LineDirection) -> LineImpairment {
        state.withLock { $0.models[direction] ?? .none }
    }

    func setModel(_ model: LineImpairment, _ direction: LineDirection) {
        state.withLock { $0.models[direction] = model }
    }

    func counters(_ direction: LineDirection) -> LineCounters {
        state.withLock { $0.counters[direction] ?? LineCounters() }
    }

    func add(_ counters: LineCounters, _ direction: LineDirection) {
        state.withLock { $0.counters[direction, default: LineCounters()] += counters }
    }

    var isCut: Bool {
        get { state.withLock { $0.cut } }
        set { state.withLock { $0.cut = newValue } }
    }

    var isBlackholed: Bool { state.withLock { $0.blackhole } }

    /// Starts discarding everything read, both ways.
    func blackhole() {
        state.withLock { $0.blackhole = true }
    }

    /// Stops discarding and wakes every task in ``waitUntilHealed()``.
    func heal() {
        let waiters = state.withLock { state in
            state.blackhole = false
            defer { state.healWaiters = [:] }
            return Array(state.healWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the line is not blackholed, or when the task is cancelled.
    func waitUntilHealed() async {
        let ticket = state.withLock { state in
            state.nextTicket += 1
            return state.nextTicket
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = state.withLock { state in
                    guard state.blackhole, !Task.isCancelled else { return false }
                    state.healWaiters[ticket] = continuation
                    return true
                }
                if !waiting { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.healWaiters.removeValue(forKey: ticket) }?.resume()
        }
    }

    private enum PumpEvent: Sendable {
        case bytes([UInt8])
        /// The reorder window of hold number `n` has passed.
        case flush(Int)
        case end
    }

    /// Moves bytes from `source` to `sink` through the model for `direction`
    /// until `source` ends or a write fails; with no sink, reads and discards.
    /// While the cable is cut, bytes are read and counted as lost (a serial
    /// line keeps its devices when the cable goes; only the signal stops);
    /// while the line is blackholed, the same, counted apart.
    func pump(
        from source: any LinkTransport, to sink: (any LinkTransport)?, _ direction: LineDirection,
        seed: UInt64
    ) async {
        // Reads, and the timers that release a chunk held back for
        // reordering, arrive on one stream so one loop handles them in order.
        let (events, feed) = AsyncStream<PumpEvent>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await chunk in source.inbound { feed.yield(.bytes(chunk)) }
                } catch {
                    // The line ended (closed, cut or failed); the caller closes both sides.
                }
                feed.yield(.end)
            }
            var rng = SeededGenerator(seed: seed)
            var held: [LinePiece] = []
            var hold = 0
            do {
                loop: for await event in events {
                    var pieces: [LinePiece] = []
                    var counters = LineCounters()
                    switch event {
                    case .end:
                        // What was held back still goes out before the end, as a
                        // late packet arrives before the connection's FIN.
                        pieces = held
                        counters.bytesOut = held.reduce(0) { $0 + $1.bytes.count }
                        held = []
                    case .flush(let number):
                        guard number == hold else { continue }
                        pieces = held
                        counters.bytesOut = held.reduce(0) { $0 + $1.bytes.count }
                        held = []
                    case .bytes(let chunk):
                        counters.bytesIn = chunk.count
                        if isCut {
                            counters.bytesLostToCut = chunk.count
                        } else if isBlackholed {
                            counters.bytesLostToBlackhole = chunk.count
                        } else {
                            counters.bytesIn = 0
                            pieces = model(direction).apply(
                                to: chunk, using: &rng, holding: &held, counting: &counters)
                            if !held.isEmpty {
                                hold += 1
                                group.addTask { [hold] in
                                    try? await Task.sleep(for: Self.reorderWindow)
                                    feed.yield(.flush(hold))
                                }
                            }
                        }
                    }
                    add(counters, direction)
                    // Pieces go out in as few writes as their delays allow:
                    // the receiver sees the same bytes in the same order, and
                    // a read cut into 8-byte chunks is not thousands of
                    // writes, which a busy machine took minutes over.
                    var pending: [UInt8] = []
                    for piece in pieces {
                        if piece.delay > .zero {
                            if !pending.isEmpty { try await sink?.write(pending) }
                            pending = []
                            try await Task.sleep(for: piece.delay)
                        }
                        pending += piece.bytes
                    }
                    if !pending.isEmpty { try await sink?.write(pending) }
                    if case .end = event { break loop }
                }
            } catch {
                // A write failed: the receiving side is gone.
            }
            feed.finish()
            // Cancelling the reader closes the source too (ChannelLinkTransport);
            // the caller closes both sides anyway.
            group.cancelAll()
        }
    }
}
