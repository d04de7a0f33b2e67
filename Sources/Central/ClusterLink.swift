import CargoStore
import CentralCluster
import Foundation
import LaneLink
import LinkCore
import Logging
import RoadCargo
import Synchronization

// Central's side of a cluster (docs/deploying-central.md, "Several nodes"):
// the link server's sessions feed the node's lane claims, commands and help
// signals for lanes linked elsewhere go through the command table, the
// consoles of every node wake together, and one simulated clock.
extension LaneDispatcher {
    /// The cluster this node belongs to, if any.
    public var cluster: ClusterNode? { clusterSlot.withLock { $0 } }

    /// Joins `node`'s cluster: called once by ``CentralAssembly`` before
    /// anything runs.
    func join(
        _ node: ClusterNode, desk: HelpDesk, bus: ConsoleBus, clock: any WallClock, logger: Logger
    ) async {
        clusterSlot.withLock { $0 = node }
        server.observeSessions { change in
            switch change {
            case .established(let lane): node.post(.sessionEstablished(lane))
            case .ended(let lane): node.post(.sessionEnded(lane))
            }
        }
        let relay = ConsoleRelay(node: node, logger: logger)
        bus.relayChanges { relay.poke() }
        await desk.attach { [weak self] message, lane in
            guard let self else { return 0 }
            return try await self.signal(message, to: lane)
        }
        let simulated = clock as? SimulatedWallClock
        node.attach(
            ClusterHooks(
                deliver: { [weak self] command in
                    guard let self else { throw CancellationError() }
                    return try await self.deliver(command)
                },
                closeSession: { [server] lane in server.closeSession(of: lane) },
                changed: { bus.changedElsewhere() },
                clockMoved: { at in
                    guard let simulated, at > simulated.now() else { return }
                    simulated.set(at)
                    bus.changedElsewhere()
                }))
    }

    /// A help-call signal to the lane: over its session here, or queued
    /// for the node that has it. Returns the link message id, 0 when queued.
    func signal(_ message: LaneMessage, to lane: LaneID) async throws -> UInt64 {
        guard let cluster,
            case .queue(let holder) = try await cluster.route(lane, localSession: isConnected(lane))
        else { return try await server.send(message, to: lane) }
        let officer: String
        if case .helpCall(.answer(_, let name)) = message { officer = name } else { officer = "help desk" }
        _ = try await cluster.queue(
            message, kind: "help", to: lane, for: holder, actionID: nil, officer: officer)
        return 0
    }

    /// Carries out a command another node queued for a lane linked here.
    func deliver(_ command: QueuedCommand) async throws -> UInt64 {
        let message = try command.decodedMessage()
        if command.pushCacheFirst, let lane = try await repository.lane(command.lane) {
            _ = try await pushCache(to: lane, cause: .offline, by: command.officer)
        }
        let id = try await server.send(message, to: command.lane)
        if let action = command.actionID {
            try await repository.setOfficerActionMessage(id: action, messageID: id)
        }
        return id
    }

    /// Lanes linked to this node or, in a cluster, to any live node, with
    /// the node's id (nil outside a cluster). When the cluster's tables
    /// cannot be read, this node's own lanes.
    public func linkedLanes() async -> [LaneID: String?] {
        let local = server.connectedLanes
        var linked = Dictionary(local.map { ($0, cluster?.me.value) }, uniquingKeysWith: { a, _ in a })
        guard let cluster else { return linked }
        do {
            for (lane, claim) in try await cluster.linkedLanes() where linked[lane] == nil {
                linked[lane] = claim.node?.value
            }
        } catch {
            logger.error("cluster: cannot read the lane sessions", metadata: ["error": "\(error)"])
        }
        return linked
    }

    /// The newest cluster commands of `lanes`, for the console (empty outside a cluster).
    public func clusterCommands(lanes: [LaneID], limit: Int) async throws -> [QueuedCommand] {
        guard let cluster, !lanes.isEmpty else { return [] }
        return try await cluster.tables.recentCommands(lanes: lanes, limit: limit)
    }
}

/// Announces this node's console changes to the other nodes, at most one
/// notification in flight and one more queued: a burst of changes costs
/// two notifications, not one each.
final class ConsoleRelay: Sendable {
    let node: ClusterNode
    let logger: Logger
    let state = Mutex((running: false, again: false))

    init(node: ClusterNode, logger: Logger) {
        self.node = node
        self.logger = logger
    }

    func poke() {
        let start = state.withLock { s -> Bool in
            if s.running {
                s.again = true
                return false
            }
            s.running = true
            return true
        }
        guard start else { return }
        Task {
            repeat {
                do { try await node.tables.announceConsoleChange() } catch {
                    logger.warning(
                        "cluster: cannot tell the other nodes' consoles", metadata: ["error": "\(error)"])
                }
            } while state.withLock { s -> Bool in
                if s.again {
                    s.again = false
                    return true
                }
                s.running = false
                return false
            }
        }
    }
}
