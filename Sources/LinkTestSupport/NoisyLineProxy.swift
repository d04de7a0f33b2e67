import LaneLink
import LinkCore
import NIOCore
import NIOPosix
import Synchronization
import TestKit

/// A TCP man-in-the-middle on loopback that damages the lane link on purpose.
///
/// Lanes connect to ``port``; each connection is forwarded to the target
/// (central) and bytes in each direction pass through that direction's
/// ``LineImpairment``. Every connection draws from its own generator, derived
/// from the seed and the connection's number, so runs replay exactly as long
/// as connections arrive in the same order.
///
/// ``cut()`` pulls the cable: every forwarded connection closes at once and new
/// ones are accepted and closed straight away (a lane sees its connection end,
/// as when central's host drops off the network), until ``restore()``.
public final class NoisyLineProxy: Sendable {
    /// The loopback port lanes connect to.
    public let port: Int
    /// Where connections are forwarded, as `host:port`.
    public let target: String

    private let listener: TCPLinkListener
    private let line: LineState
    private let registry = Mutex(Registry())
    private let acceptLoop = Mutex<Task<Void, Never>?>(nil)

    private struct Registry {
        var pairs: [Int: Pair] = [:]
        var accepted = 0
        var refused = 0
        var closed = false
    }

    private struct Pair {
        var lane: ChannelLinkTransport
        var central: ChannelLinkTransport
        var task: Task<Void, Never>?
    }

    /// Starts listening on an ephemeral loopback port.
    /// - Parameters:
    ///   - targetHost: Central's address; loopback by default.
    ///   - seed: Seeds every random choice the proxy makes.
    public init(
        targetHost: String = "127.0.0.1", targetPort: Int, seed: UInt64 = 1,
        laneToCentral: LineImpairment = .none, centralToLane: LineImpairment = .none,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws {
        listener = try await TCPLinkListener(host: "127.0.0.1", port: 0, group: group)
        port = listener.port
        line = LineState(laneToCentral: laneToCentral, centralToLane: centralToLane)
        let connector = TCPLinkConnector(
            host: targetHost, port: targetPort, connectTimeout: .seconds(2), group: group)
        target = "\(targetHost):\(targetPort)"
        let task = Task { [listener, self] in
            for await lane in listener.connections {
                await forward(lane, connector: connector, seed: seed)
            }
        }
        acceptLoop.withLock { $0 = task }
    }

    /// Replaces the impairment model for one direction; chunks already read keep the old one.
    public func setImpairment(_ impairment: LineImpairment, for direction: LineDirection) {
        line.setModel(impairment, direction)
    }

    /// What the proxy has done to one direction so far, over all connections.
    public func counters(_ direction: LineDirection) -> LineCounters {
        line.counters(direction)
    }

    /// Connections accepted and forwarded so far.
    public var connectionsForwarded: Int { registry.withLock { $0.accepted } }
    /// Connections closed on arrival because the cable was cut or central was unreachable.
    public var connectionsRefused: Int { registry.withLock { $0.refused } }
    /// Forwarded connections still open.
    public var openConnections: Int { registry.withLock { $0.pairs.count } }

    /// Whether the cable is cut.
    public var isCut: Bool { line.isCut }

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
            await pair.central.close()
            await pair.task?.value
        }
    }

    private func forward(_ lane: ChannelLinkTransport, connector: TCPLinkConnector, seed: UInt64) async {
        let central: ChannelLinkTransport
        do {
            guard !line.isCut else { throw CancellationError() }
            central = try await connector.connect()
        } catch {
            registry.withLock { $0.refused += 1 }
            await lane.close()
            return
        }
        let number: Int? = registry.withLock { registry in
            guard !registry.closed else { return nil }
            registry.accepted += 1
            registry.pairs[registry.accepted] = Pair(lane: lane, central: central)
            return registry.accepted
        }
        guard let number else {
            await lane.close()
            await central.close()
            return
        }
        let laneSeed = SeededGenerator.derive(seed, stream: UInt64(number) * 2)
        let centralSeed = SeededGenerator.derive(seed, stream: UInt64(number) * 2 + 1)
        // Unstructured so the accept loop goes on; close() and cut() await it.
        let task = Task { [line] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await line.pump(from: lane, to: central, .laneToCentral, seed: laneSeed) }
                group.addTask { await line.pump(from: central, to: lane, .centralToLane, seed: centralSeed) }
                // When either side ends, the other goes too: TCP through a proxy has no half-open state.
                await group.next()
                await lane.close()
                await central.close()
            }
            _ = self.registry.withLock { $0.pairs.removeValue(forKey: number) }
        }
        registry.withLock { registry in
            if registry.pairs[number] != nil { registry.pairs[number]?.task = task }
        }
    }
}
