import CentralCluster
import Foundation
import LinkCore
import Logging
import PostgresNIO
import PostgresSupport
import PostgresTestSupport
import RoadCargo
import Synchronization
import TestKit
import Testing

final class SentLog: Sendable {
    let names = Mutex<[String]>([])
}

/// What the hooks of one node saw.
final class HookLog: Sendable {
    let delivered = Mutex<[QueuedCommand]>([])
    let closed = Mutex<[LaneID]>([])
    let changes = Mutex(0)
    let clock = Mutex<[Date]>([])
    let nextMessageID = Mutex<UInt64>(100)

    var hooks: ClusterHooks {
        ClusterHooks(
            deliver: { command in
                self.delivered.withLock { $0.append(command) }
                return self.nextMessageID.withLock {
                    $0 += 1
                    return $0
                }
            },
            closeSession: { lane in self.closed.withLock { $0.append(lane) } },
            changed: { self.changes.withLock { $0 += 1 } },
            clockMoved: { at in self.clock.withLock { $0.append(at) } })
    }
}

/// Two or three nodes on one fresh PostgreSQL database each, run as they
/// run in clearanced, with the link server replaced by the events it posts.
@Suite(.enabled(if: PostgresTestServer.isConfigured, "needs scripts/with-postgres.sh"))
struct ClusterNodeTests {
    static let lane = try! LaneID("LMC-IN-01")
    let logger = Logger(label: "test.cluster")

    struct Node {
        var node: ClusterNode
        var log: HookLog
        var pool: PostgresPool
        var task: Task<Void, any Error>
    }

    func start(_ name: String, on location: PostgresLocation, clock: any WallClock) async throws -> Node {
        let pool = try await PostgresPool.open(
            location, password: PostgresTestServer.password, logger: logger)
        var settings = ClusterSettings()
        settings.heartbeat = .milliseconds(200)
        settings.relisten = .milliseconds(100)
        let node = try await ClusterNode.open(
            pool: pool, node: try NodeID(name), clock: clock, settings: settings, logger: logger)
        let log = HookLog()
        node.attach(log.hooks)
        let task = Task { try await node.run() }
        return Node(node: node, log: log, pool: pool, task: task)
    }

    func stop(_ nodes: Node...) async {
        for n in nodes {
            n.task.cancel()
            _ = await n.task.result
            await n.pool.close()
        }
    }

    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func openLane(_ officer: String) -> LaneMessage { .officerCommand(.openLane(officer: officer)) }

    @Test func theNewestSessionWinsASplitBrain() async throws {
        let location = try await PostgresTestServer.freshDatabase()
        let clock = SimulatedWallClock(Self.start)
        let a = try await start("node-a", on: location, clock: clock)
        let b = try await start("node-b", on: location, clock: clock)
        a.node.post(.sessionEstablished(Self.lane))
        try await eventually("node A holds the lane") { a.node.held[Self.lane] != nil }
        // The lane's link blips; it reaches node B while A's old session
        // has not timed out yet.
        b.node.post(.sessionEstablished(Self.lane))
        try await eventually("node A closes its session") { a.log.closed.withLock { $0 } == [Self.lane] }
        #expect(a.node.held[Self.lane] == nil)
        #expect(b.node.held[Self.lane] != nil)
        #expect(b.log.closed.withLock { $0 }.isEmpty)
        let row = try await a.node.tables.claims([Self.lane]).first
        #expect(row?.node?.value == "node-b")
        #expect(row?.epoch == b.node.held[Self.lane])
        // A's session then ends: it releases nothing, the row stays B's.
        a.node.post(.sessionEnded(Self.lane))
        try await eventually("the consoles see the lane on node B") {
            try await a.node.linkedLanes()[Self.lane]?.node?.value == "node-b"
        }
        await stop(a, b)
    }

    @Test func aCommandFromOneNodeReachesTheLaneOnAnother() async throws {
        let location = try await PostgresTestServer.freshDatabase()
        let clock = SimulatedWallClock(Self.start)
        let a = try await start("node-a", on: location, clock: clock)
        let b = try await start("node-b", on: location, clock: clock)
        b.node.post(.sessionEstablished(Self.lane))
        try await eventually("node B holds the lane") { b.node.held[Self.lane] != nil }

        let route = try await a.node.route(Self.lane, localSession: false)
        #expect(route == .queue(holder: try NodeID("node-b")))
        let queued = try await a.node.queue(
            Self.openLane("chan"), kind: "open", to: Self.lane, for: try NodeID("node-b"), actionID: 7,
            officer: "chan")
        try await eventually("node B delivers it") { b.log.delivered.withLock { $0.count } == 1 }
        let delivered = try #require(b.log.delivered.withLock { $0.first })
        #expect(try delivered.decodedMessage() == Self.openLane("chan"))
        #expect(delivered.actionID == 7)
        #expect(a.log.delivered.withLock { $0 }.isEmpty)
        try await eventually("the row says delivered by node B") {
            let row = try await a.node.tables.command(id: queued.id)
            return row?.state == .delivered && row?.settledBy?.value == "node-b" && row?.messageID == 101
        }
        // Node A's consoles hear of it.
        try await eventually("node A's consoles are woken") { a.log.changes.withLock { $0 } > 0 }
        await stop(a, b)
    }

    @Test func aCommandQueuedForANodeThatDiedIsDeliveredByTheNextHolderOrExpired() async throws {
        let location = try await PostgresTestServer.freshDatabase()
        let clock = SimulatedWallClock(Self.start)
        let a = try await start("node-a", on: location, clock: clock)
        // Nobody holds the lane (its node died between commit and delivery).
        #expect(try await a.node.route(Self.lane, localSession: false) == .queue(holder: nil))
        let old = try await a.node.queue(
            Self.openLane("chan"), kind: "open", to: Self.lane, for: nil, actionID: nil, officer: "chan")
        clock.advance(by: 61)
        let fresh = try await a.node.queue(
            .officerCommand(.closeLane(officer: "lee")), kind: "close", to: Self.lane, for: nil,
            actionID: nil,
            officer: "lee")
        #expect(a.log.delivered.withLock { $0 }.isEmpty)

        let c = try await start("node-c", on: location, clock: clock)
        c.node.post(.sessionEstablished(Self.lane))
        try await eventually("node C delivers the fresh command") {
            c.log.delivered.withLock { $0.count } == 1
        }
        #expect(c.log.delivered.withLock { $0.map(\.id) } == [fresh.id])
        // The delivery pass commits after the message is in the outbox.
        try await eventually("the pass commits") {
            try await a.node.tables.recentCommands(lanes: [Self.lane], limit: 10).map(\.state) == [
                .delivered, .expired,
            ]
        }
        let expired = try await c.node.tables.command(id: old.id)
        #expect(expired?.settledBy?.value == "node-c")
        #expect(expired?.messageID == nil)
        await stop(a, c)
    }

    @Test func aLaneHeldByASilentNodeIsHeldByNobody() async throws {
        let location = try await PostgresTestServer.freshDatabase()
        let clock = SimulatedWallClock(Self.start)
        let a = try await start("node-a", on: location, clock: clock)
        let b = try await start("node-b", on: location, clock: clock)
        b.node.post(.sessionEstablished(Self.lane))
        try await eventually("node B holds the lane") { b.node.held[Self.lane] != nil }
        // Node B freezes (no deregistration): its heartbeat gets old.
        b.task.cancel()
        _ = await b.task.result
        try await a.pool.client.query(
            """
            INSERT INTO cluster_nodes(node, heartbeat_at) VALUES ('node-b', now() - interval '1 minute')
            ON CONFLICT (node) DO UPDATE SET heartbeat_at = now() - interval '1 minute'
            """, logger: logger)
        try await a.pool.client.query(
            "UPDATE cluster_lane_sessions SET node = 'node-b' WHERE lane = \(Self.lane.value)", logger: logger
        )
        #expect(try await a.node.route(Self.lane, localSession: false) == .queue(holder: nil))
        #expect(try await a.node.linkedLanes()[Self.lane] == nil)
        await b.pool.close()
        await stop(a)
    }

    @Test func twoNodesDeliveringAtOnceSendEachCommandOnce() async throws {
        let location = try await PostgresTestServer.freshDatabase()
        let pool = try await PostgresPool.open(
            location, password: PostgresTestServer.password, logger: logger)
        try await ClusterTables.migrations.apply(to: pool)
        let a = ClusterTables(pool: pool, me: try NodeID("node-a"))
        let b = ClusterTables(pool: pool, me: try NodeID("node-b"))
        for i in 0..<20 {
            _ = try await a.enqueue(
                QueuedCommand(
                    lane: Self.lane, kind: "open", message: try QueuedCommand.encode(Self.openLane("o\(i)")),
                    actionID: nil, officer: "o\(i)", pushCacheFirst: false, requestedAt: Self.start,
                    queuedBy: a.me, queuedFor: nil), limit: 1000)
        }
        let sent = SentLog()
        let settled = try await withThrowingTaskGroup(of: Int.self) { group in
            for tables in [a, b] {
                group.addTask {
                    try await tables.deliverPending(Self.lane, now: Self.start, maxAge: 60) { command in
                        sent.names.withLock { $0.append(command.officer) }
                        return UInt64(command.id)
                    }.delivered.count
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(settled == 20)
        #expect(sent.names.withLock { $0 } == (0..<20).map { "o\($0)" })
        await pool.close()
    }

    @Test func aLaneTakesOnlySoManyWaitingCommands() async throws {
        let database = try await PostgresTestServer.openFresh(logger: logger)
        try await ClusterTables.migrations.apply(to: database)
        let tables = ClusterTables(pool: database, me: try NodeID("node-a"))
        let command = QueuedCommand(
            lane: Self.lane, kind: "open", message: try QueuedCommand.encode(Self.openLane("chan")),
            actionID: nil,
            officer: "chan", pushCacheFirst: false, requestedAt: Self.start, queuedBy: tables.me,
            queuedFor: nil)
        for _ in 0..<3 { _ = try await tables.enqueue(command, limit: 3) }
        await #expect {
            try await tables.enqueue(command, limit: 3)
        } throws: { error in
            "\(error)".contains("already has 3 commands waiting")
        }
        await database.close()
    }

    @Test func theSimulatedClockIsOneClockForAllNodes() async throws {
        let location = try await PostgresTestServer.freshDatabase()
        let a = try await start("node-a", on: location, clock: SimulatedWallClock(Self.start))
        let b = try await start("node-b", on: location, clock: SimulatedWallClock(Self.start))
        try await eventually("both nodes listen") {
            try await a.node.tables.announceConsoleChange()
            return b.log.changes.withLock { $0 } > 0
        }
        let set = try await a.node.tables.setClock(Self.start.addingTimeInterval(3600))
        #expect(set == Self.start.addingTimeInterval(3600))
        try await eventually("node B hears the set") { b.log.clock.withLock { $0.last } == set }
        // Two advances at once, from two nodes: both count.
        async let one = a.node.tables.advanceClock(by: 30, local: Self.start)
        async let two = b.node.tables.advanceClock(by: 30, local: Self.start)
        _ = try await (one, two)
        #expect(try await a.node.tables.clock() == Self.start.addingTimeInterval(3660))
        // Setting it back is no move at all.
        #expect(try await b.node.tables.setClock(Self.start) == Self.start.addingTimeInterval(3660))
        #expect(a.log.clock.withLock { $0 }.allSatisfy { $0 > Self.start })
        await stop(a, b)
    }
}

@Suite(.enabled(if: PostgresTestServer.isConfigured, "needs scripts/with-postgres.sh"))
struct ClusterNodeIDTests {
    @Test func aSecondProcessUnderALiveNodesIDIsRefusedByName() async throws {
        let logger = Logger(label: "test.cluster")
        let pool = try await PostgresTestServer.openFresh(logger: logger)
        try await ClusterTables.migrations.apply(to: pool)
        let first = ClusterTables(pool: pool, me: try NodeID("node-a"))
        try await first.register(deadAfter: 1)
        // The first keeps beating while the second tries.
        let beating = Task {
            while !Task.isCancelled {
                try? await first.heartbeat()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        await #expect {
            try await ClusterTables(pool: pool, me: try NodeID("node-a")).register(deadAfter: 1)
        } throws: { error in
            "\(error)".contains("another clearanced is running as node node-a")
        }
        beating.cancel()
        _ = await beating.value
        // Its previous life stopped beating: a restart waits for that, then registers.
        try await ClusterTables(pool: pool, me: try NodeID("node-a")).register(deadAfter: 1)
        await pool.close()
    }
}
