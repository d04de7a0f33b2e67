import Foundation
import LinkCore
import Logging
import PostgresNIO
import PostgresSupport
import RoadCargo
import ServiceLifecycle
import Synchronization

/// How a node keeps time with the others.
public struct ClusterSettings: Sendable {
    /// How often the node beats and sweeps its lanes' rows.
    public var heartbeat: Duration = .seconds(2)
    /// A node silent this long (by the database's clock) is dead to the others.
    public var deadAfter: TimeInterval = NodeLiveness.defaultDeadAfter
    /// A queued command older than this is expired rather than delivered.
    public var commandMaxAge: TimeInterval = CommandReplay.defaultMaxAge
    /// The most commands one lane may have waiting.
    public var maxQueuedPerLane = 1000
    /// How long to wait before listening again after the connection failed.
    public var relisten: Duration = .seconds(1)

    public init() {}
}

/// What a node does to the rest of central: Central's assembly fills these in.
public struct ClusterHooks: Sendable {
    /// Puts a queued command's message in the lane's outbox (pushing a cache
    /// first when it asks) and returns its link message id.
    public var deliver: @Sendable (QueuedCommand) async throws -> UInt64
    /// Closes this node's session with the lane (another node won it).
    public var closeSession: @Sendable (LaneID) -> Void
    /// Wakes this node's consoles: something they show changed on another node.
    public var changed: @Sendable () -> Void
    /// Another node moved the simulated clock to this instant.
    public var clockMoved: @Sendable (Date) -> Void

    public init(
        deliver: @escaping @Sendable (QueuedCommand) async throws -> UInt64,
        closeSession: @escaping @Sendable (LaneID) -> Void, changed: @escaping @Sendable () -> Void = {},
        clockMoved: @escaping @Sendable (Date) -> Void = { _ in }
    ) {
        self.deliver = deliver
        self.closeSession = closeSession
        self.changed = changed
        self.clockMoved = clockMoved
    }
}

/// One clearanced node in a cluster: runs ``LaneOwnership`` over the
/// lane-session table, delivers the command table's rows for the lanes it
/// holds, beats, listens for the other nodes' notifications, and routes
/// this node's commands. The rules are in the values it feeds; this type
/// only executes their actions.
///
/// Session events arrive from the link server's callbacks, which must not
/// wait: ``post(_:)`` queues them, and ``run()`` handles them one at a time
/// in order, so a session that starts and ends at once is claimed, then released.
public final class ClusterNode: Service, Sendable {
    public let tables: ClusterTables
    public let settings: ClusterSettings
    public let clock: any WallClock
    let logger: Logger
    let hooks = Mutex<ClusterHooks?>(nil)
    let ownership: Mutex<LaneOwnership>
    let events: AsyncStream<LaneOwnership.Event>
    let input: AsyncStream<LaneOwnership.Event>.Continuation

    public var me: NodeID { tables.me }

    /// - Parameter clock: the business clock (command ages, link times).
    public init(
        tables: ClusterTables, clock: any WallClock, settings: ClusterSettings = ClusterSettings(),
        logger: Logger
    ) {
        self.tables = tables
        self.clock = clock
        self.settings = settings
        self.logger = logger
        ownership = Mutex(LaneOwnership(node: tables.me))
        (events, input) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Opens a node on the database at `pool`, its tables migrated.
    public static func open(
        pool: PostgresPool, node: NodeID, clock: any WallClock, settings: ClusterSettings = ClusterSettings(),
        logger: Logger
    ) async throws -> ClusterNode {
        try await ClusterTables.migrations.apply(to: pool)
        return ClusterNode(
            tables: ClusterTables(pool: pool, me: node), clock: clock, settings: settings, logger: logger)
    }

    /// Set once, before ``run()``.
    public func attach(_ hooks: ClusterHooks) { self.hooks.withLock { $0 = hooks } }

    /// Queues a session event for ``run()``; never waits.
    public func post(_ event: LaneOwnership.Event) { input.yield(event) }

    /// Lanes this node holds, with their epochs.
    public var held: [LaneID: Int64] { ownership.withLock { $0.held } }

    // MARK: Routing

    /// Where an officer's message to `lane` goes. `localSession` is the
    /// link server's own answer (fresher than the table for this node).
    public func route(_ lane: LaneID, localSession: Bool) async throws -> CommandRoute {
        if localSession { return .here }
        let claim = try await tables.claims([lane]).first
        let alive = try await tables.aliveNodes(deadAfter: settings.deadAfter)
        return CommandRoute.decide(localSession: false, claim: claim, alive: alive, me: me)
    }

    /// Queues `message` for the lane in the command table (``CommandRoute/queue(holder:)``).
    public func queue(
        _ message: LaneMessage, kind: String, to lane: LaneID, for holder: NodeID?, actionID: Int64?,
        officer: String,
        pushCacheFirst: Bool = false
    ) async throws -> QueuedCommand {
        let command = QueuedCommand(
            lane: lane, kind: kind, message: try QueuedCommand.encode(message), actionID: actionID,
            officer: officer,
            pushCacheFirst: pushCacheFirst, requestedAt: clock.now(), queuedBy: me, queuedFor: holder)
        let stored = try await tables.enqueue(command, limit: settings.maxQueuedPerLane)
        logger.notice(
            "cluster: command queued for another node",
            metadata: [
                "lane": "\(lane)", "kind": "\(kind)", "command": "\(stored.id)",
                "for": "\(holder?.value ?? "the next node to link the lane")",
            ])
        return stored
    }

    /// The lanes linked to a live node, and to which.
    public func linkedLanes() async throws -> [LaneID: LaneClaim] {
        let alive = try await tables.aliveNodes(deadAfter: settings.deadAfter)
        var linked: [LaneID: LaneClaim] = [:]
        for claim in try await tables.claims() {
            if let node = claim.node, alive.contains(node) { linked[claim.lane] = claim }
        }
        return linked
    }

    // MARK: Running

    /// Registers, then beats, sweeps, listens and handles session events
    /// until cancelled or a graceful shutdown, then deregisters.
    public func run() async throws {
        try await tables.register(deadAfter: settings.deadAfter)
        logger.info("cluster: node registered", metadata: ["node": "\(me)"])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.handleEvents() }
                group.addTask { await self.beat() }
                group.addTask { await self.listen() }
                await group.waitForAll()
            }
        }
        // Cancelled or shut down: free the lanes for the others now rather
        // than after deadAfter. A crash skips this; the heartbeat covers it.
        do { try await Task { try await self.tables.deregister(at: self.clock.now()) }.value } catch {
            logger.warning(
                "cluster: cannot deregister", metadata: ["error": "\(PostgresErrors.describe(error))"])
        }
    }

    private func handleEvents() async {
        for await event in events {
            if Task.isCancelled { return }
            await handle(event)
        }
    }

    /// Feeds one event to the ownership value and performs its actions.
    func handle(_ event: LaneOwnership.Event) async {
        var pending = [event]
        while !pending.isEmpty {
            let next = pending.removeFirst()
            let actions = ownership.withLock { $0.handle(next) }
            for action in actions {
                if let followUp = await perform(action) { pending.append(followUp) }
            }
        }
    }

    private func perform(_ action: LaneOwnership.Action) async -> LaneOwnership.Event? {
        do {
            switch action {
            case .claim(let lane):
                let claim = try await tables.claim(lane, at: clock.now())
                logger.info(
                    "cluster: lane claimed", metadata: ["lane": "\(lane)", "epoch": "\(claim.epoch)"])
                return .claimed(lane, epoch: claim.epoch)
            case .release(let lane, let epoch):
                try await tables.release(lane, epoch: epoch, at: clock.now())
            case .closeSession(let lane, let winner):
                logger.warning(
                    "cluster: lane linked to another node as well; closing this node's older session",
                    metadata: [
                        "lane": "\(lane)", "winner": "\(winner.node?.value ?? "?")",
                        "epoch": "\(winner.epoch)",
                    ])
                hooks.withLock { $0 }?.closeSession(lane)
            case .deliverPending(let lane):
                try await deliverPending(lane)
            }
        } catch {
            logger.error(
                "cluster: action failed; the next sweep tries again",
                metadata: ["action": "\(action)", "error": "\(PostgresErrors.describe(error))"])
        }
        return nil
    }

    /// Delivers the lane's queued commands over this node's session.
    @discardableResult
    public func deliverPending(_ lane: LaneID) async throws -> ClusterTables.Settled {
        guard let hooks = hooks.withLock({ $0 }) else { return .init() }
        let settled = try await tables.deliverPending(
            lane, now: clock.now(), maxAge: settings.commandMaxAge, deliver: hooks.deliver)
        for command in settled.delivered {
            logger.notice(
                "cluster: queued command delivered",
                metadata: ["lane": "\(lane)", "command": "\(command.id)", "kind": "\(command.kind)"])
        }
        for command in settled.expired {
            logger.warning(
                "cluster: queued command too old; expired, not sent",
                metadata: [
                    "lane": "\(lane)", "command": "\(command.id)", "kind": "\(command.kind)",
                    "requestedAt": "\(HongKongTime.iso8601(command.requestedAt))",
                ])
        }
        if !(settled.delivered.isEmpty && settled.expired.isEmpty) { hooks.changed() }
        return settled
    }

    /// One sweep now: the heartbeat, and this node's rows checked against
    /// what it holds (a missed notification costs at most one interval).
    public func sweep() async throws {
        try await tables.heartbeat()
        let lanes = Array(ownership.withLock { $0.held.keys })
        let rows = lanes.isEmpty ? [] : try await tables.claims(lanes)
        await handle(.sweep(rows: rows))
    }

    private func beat() async {
        while !Task.isCancelled {
            do { try await sweep() } catch {
                logger.error(
                    "cluster: heartbeat failed", metadata: ["error": "\(PostgresErrors.describe(error))"])
            }
            try? await Task.sleep(for: settings.heartbeat)
        }
    }

    private func listen() async {
        while !Task.isCancelled {
            do {
                try await tables.pool.withDedicatedConnection { connection in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for channel in ClusterTables.Channel.allCases {
                            group.addTask {
                                try await connection.listen(on: channel.rawValue) { notifications in
                                    for try await notification in notifications {
                                        self.heard(channel, notification.payload)
                                    }
                                }
                            }
                        }
                        // Listening from here on: what was missed before is in the rows.
                        group.addTask { try await self.sweep() }
                        try await group.waitForAll()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.error(
                    "cluster: lost the notification connection; listening again",
                    metadata: ["error": "\(PostgresErrors.describe(error))"])
            }
            try? await Task.sleep(for: settings.relisten)
        }
    }

    /// One notification from any node, this one's own included.
    func heard(_ channel: ClusterTables.Channel, _ payload: String) {
        let hooks = hooks.withLock { $0 }
        switch channel {
        case .lanes:
            guard let claim = ClusterTables.parse(LaneClaim.self, payload) else { return }
            post(.observed(claim))
            if claim.node != me { hooks?.changed() }
        case .commands:
            guard let notice = ClusterTables.parse(ClusterTables.CommandNotice.self, payload) else { return }
            post(.commandsQueued(notice.lane))
        case .console:
            if payload != me.value { hooks?.changed() }
        case .clock:
            guard let notice = ClusterTables.parse(ClusterTables.ClockNotice.self, payload), notice.node != me
            else { return }
            hooks?.clockMoved(notice.at)
        }
    }
}
