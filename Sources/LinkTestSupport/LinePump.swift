import LaneLink
import LinkCore
import Synchronization
import TestKit

/// The settings and counters a proxy shares with its pumps: one impairment
/// model per direction, changeable while traffic flows, and whether the cable
/// is cut.
final class LineState: Sendable {
    private struct State {
        var models: [LineDirection: LineImpairment]
        var counters: [LineDirection: LineCounters] = [
            .laneToCentral: LineCounters(), .centralToLane: LineCounters(),
        ]
        var cut = false
    }
    private let state: Mutex<State>

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

    /// Moves bytes from `source` to `sink` through the model for `direction`
    /// until `source` ends or a write fails. While the cable is cut, bytes are
    /// read and counted as lost (a serial line keeps its devices when the cable
    /// goes; only the signal stops).
    func pump(
        from source: any LinkTransport, to sink: any LinkTransport, _ direction: LineDirection, seed: UInt64
    ) async {
        var rng = SeededGenerator(seed: seed)
        do {
            for try await chunk in source.inbound {
                var counters = LineCounters()
                if isCut {
                    counters.bytesIn = chunk.count
                    counters.bytesLostToCut = chunk.count
                    add(counters, direction)
                    continue
                }
                let pieces = model(direction).apply(to: chunk, using: &rng, counting: &counters)
                add(counters, direction)
                for piece in pieces {
                    if piece.delay > .zero { try await Task.sleep(for: piece.delay) }
                    try await sink.write(piece.bytes)
                }
            }
        } catch {
            // The line ended (closed, cut or failed); the caller closes both sides.
        }
    }
}
