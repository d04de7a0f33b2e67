import LaneLink
import LinkCore
import NIOCore
import NIOPosix
import Synchronization
import TestKit

/// A TCP man-in-the-middle that damages the lane link on purpose.
///
/// Lanes connect to ``port`` (on loopback unless told otherwise); each
/// connection is forwarded to the target (central, or any TCP server: the
/// fault campaign puts one in front of PostgreSQL too) and bytes in each
/// direction pass through that direction's ``LineImpairment``. Every
/// connection draws from its own generator, derived from the seed and the
/// connection's number, so runs replay exactly as long as connections arrive
/// in the same order.
///
/// ``cut()`` pulls the cable: every forwarded connection closes at once and new
/// ones are accepted and closed straight away (a lane sees its connection end,
/// as when central's host drops off the network), until ``restore()``.
///
/// ``blackhole()`` is a partition instead: connections stay open but every
/// byte read, either way, is discarded, until ``heal()``. New connections are
/// accepted and connected to the target at once, and their bytes discarded
/// too. Neither side learns through the proxy that the other has gone: a side
/// that closes while the line is blackholed has the other side closed only
/// when the line heals, as a host finds out from the reset its first packet
/// after a partition gets.
public final class NoisyLineProxy: Sendable {
    /// The port lanes connect to.
    public let port: Int
    /// Where lanes connect, as `host:port`.
    public let address: String
    /// Where connections are forwarded, as `host:port`.
    public let target: String
    /// Connections open at once beyond this are closed on arrival (counted as refused).
    public let maximumConnections: Int

    private let listener: TCPLinkListener
    private let line: LineState
    private let registry = Mutex(Registry())
    private let acceptLoop = Mutex<Task<Void, Never>?>(nil)

    private struct Registry {
        var pairs: [Int: Pair] = [:]
        /// Lanes that arrived, refused or not: numbers connections for their seeds.
        var arrivals = 0
        /// Arrivals waiting for the target to answer.
        var connecting = 0
        var accepted = 0
        var refused = 0
        var closed = false
    }

    private struct Pair {
        var lane: ChannelLinkTransport
        /// Nil for a lane held open while blackholed, whose target could not be reached.
        var central: ChannelLinkTransport?
        var task: Task<Void, Never>?
    }

    /// Starts listening.
    /// - Parameters:
    ///   - listenHost: The address lanes connect to; loopback by default.
    ///   - listenPort: 0 lets the kernel choose; read ``port``.
    ///   - targetHost: Central's address; loopback by default.
    ///   - seed: Seeds every random choice the proxy makes.
    ///   - maximumConnections: How many forwarded connections may be open at once.
    public init(
        listenHost: String = "127.0.0.1", listenPort: Int = 0, targetHost: String = "127.0.0.1",
        targetPort: Int, seed: UInt64 = 1, laneToCentral: LineImpairment = .none,
        centralToLane: LineImpairment = .none, maximumConnections: Int = 1024,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws {
        precondition(maximumConnections >= 1, "a proxy forwards at least one connection")
        listener = try await TCPLinkListener(host: listenHost, port: listenPort, group: group)
        port = listener.port
        address = listener.address
        self.maximumConnections = maximumConnections
        line = LineState(laneToCentral: laneToCentral, centralToLane: centralToLane)
        let connector = TCPLinkConnector(
            host: targetHost, port: targetPort, connectTimeout: .seconds(2), group: group)
        target = targetHost.contains(":") ? "[\(targetHost)]:\(targetPort)" : "\(targetHost):\(targetPort)"
        let task = Task { [listener, self] in
            await withDiscardingTaskGroup { group in
                for await lane in listener.connections {
                    // Concurrently: a target that is slow to answer must not
                    // hold the next lane at the door.
                    group.addTask { await self.forward(lane, connector: connector, seed: seed) }
                }
            }
        }
        acceptLoop.withLock { $0 = task }
    }

    /// Replaces the impairment model for one direction; chunks already read keep the old one.
    public func setImpairment(_ impairment: LineImpairment, for direction: LineDirection) {
        line.setModel(impairment, direction)
    }

    /// The impairment model one direction applies now.
    public func impairment(_ direction: LineDirection) -> LineImpairment {
        line.model(direction)
    }

    /// What the proxy has done to one direction so far, over all connections.
    public func counters(_ direction: LineDirection) -> LineCounters {
        line.counters(direction)
    }

    /// Connections accepted and forwarded so far.
    public var connectionsForwarded: Int { registry.withLock { $0.accepted } }
    /// Connections closed on arrival: the cable was cut, central was
    /// unreachable, or ``maximumConnections`` were open.
    public var connectionsRefused: Int { registry.withLock { $0.refused } }
    /// Forwarded connections still open.
    public var openConnections: Int { registry.withLock { $0.pairs.count } }

    /// Whether the cable is cut.
    public var isCut: Bool { line.isCut }

    /// Whether the line is blackholed.
    public var isBlackholed: Bool { line.isBlackholed }

    /// Pulls the cable: closes every forwarded connection, both sides, and
    /// closes new ones on arrival until ``restore()``. Returns once all are closed.
    public func cut() async {
        line.isCut = true
        let pairs = registry.withLock { Array($0.pairs.values) }
        await close(pairs)
    }

    /// Plugs the cable back in: new connections are forwarded again.
    public func restore() {
        line.isCut = false
    }

    /// Partitions the line: from now on every byte read, either way, on every
    /// connection, is discarded (``LineCounters/bytesLostToBlackhole``), and
    /// connections stay open, until ``heal()``.
    public func blackhole() {
        line.blackhole()
    }

    /// Ends the partition: bytes flow again on the connections still open;
    /// those one side of which closed meanwhile are closed now.
    public func heal() {
        line.heal()
    }

    /// Stops listening and closes every connection. Returns once nothing is left open.
    public func close() async {
        let pairs = registry.withLock { registry in
            registry.closed = true
            return Array(registry.pairs.values)
        }
        await listener.close()
        await close(pairs)
        await acceptLoop.withLock { $0 }?.value
    }

    private func close(_ pairs: [Pair]) async {
        for pair in pairs {
            await pair.lane.close()
            await pair.central?.close()
            await pair.task?.value
        }
    }

    private func forward(_ lane: ChannelLinkTransport, connector: TCPLinkConnector, seed: UInt64) async {
        // Numbered on arrival, so that seeds follow the order lanes connect in
        // however long each target connect takes.
        let arrival: Int? = registry.withLock { registry in
            guard !registry.closed, registry.pairs.count + registry.connecting < maximumConnections else {
                registry.refused += 1
                return nil
            }
            registry.arrivals += 1
            registry.connecting += 1
            return registry.arrivals
        }
        guard let number = arrival else {
            await lane.close()
            return
        }
        let central = line.isCut ? nil : try? await connector.connect()
        let admitted = registry.withLock { registry in
            registry.connecting -= 1
            // A lane whose target is unreachable while the line is blackholed is
            // held open and silent: through a partition it cannot learn why.
            // The cut is checked under this lock: cut() takes its list of
            // connections to close under it after setting the flag.
            guard !line.isCut, central != nil || line.isBlackholed else {
                registry.refused += 1
                return false
            }
            guard !registry.closed else { return false }
            registry.accepted += 1
            registry.pairs[number] = Pair(lane: lane, central: central)
            return true
        }
        guard admitted else {
            await lane.close()
            await central?.close()
            return
        }
        let laneSeed = SeededGenerator.derive(seed, stream: UInt64(number) * 2)
        let centralSeed = SeededGenerator.derive(seed, stream: UInt64(number) * 2 + 1)
        // Unstructured so that forward returns; close() and cut() await it.
        let task = Task { [line] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await line.pump(from: lane, to: central, .laneToCentral, seed: laneSeed) }
                if let central {
                    group.addTask {
                        await line.pump(from: central, to: lane, .centralToLane, seed: centralSeed)
                    }
                } else {
                    // Held open through the partition: closed when it heals.
                    group.addTask { await line.waitUntilHealed() }
                }
                // When either side ends, the other goes too: TCP through a
                // proxy has no half-open state. Through a partition the news
                // travels only once it heals (or a cut or close ends the other side).
                await group.next()
                // (A lane held open with no target has nobody left to tell.)
                if line.isBlackholed, central != nil {
                    group.addTask { await line.waitUntilHealed() }
                    await group.next()
                }
                await lane.close()
                await central?.close()
                group.cancelAll()
            }
            _ = self.registry.withLock { $0.pairs.removeValue(forKey: number) }
        }
        registry.withLock { registry in
            if registry.pairs[number] != nil { registry.pairs[number]?.task = task }
        }
    }
}
