import Foundation
import LinkCore
import Logging
import PostgresNIO
import PostgresSupport
import RoadCargo

extension ClusterTables {
    /// What one delivery pass did with a lane's queued commands.
    public struct Settled: Sendable, Hashable {
        public var delivered: [QueuedCommand] = []
        public var expired: [QueuedCommand] = []
    }

    static let commandColumns = """
        id, lane, kind, message, action_id, officer, push_cache, requested_at, queued_by, queued_for, state, \
        settled_by, settled_at, message_id
        """

    /// Commits the command first, then announces it: a node that dies
    /// after this leaves the row for whichever node takes the lane.
    /// - Throws: ``ClusterError/tooManyQueued(lane:limit:)`` when the lane
    ///   already has `limit` commands waiting.
    public func enqueue(_ command: QueuedCommand, limit: Int) async throws -> QueuedCommand {
        guard command.message.count <= FrameFormat.maxPayload else {
            throw ClusterError.messageTooLarge(
                lane: command.lane, bytes: command.message.count, limit: FrameFormat.maxPayload)
        }
        return try await pool.client.withTransaction(logger: logger) { connection in
            let counted = try await connection.query(
                "SELECT count(*) FROM cluster_commands WHERE lane = \(command.lane.value) AND state = 'queued'",
                logger: logger)
            for try await waiting in counted.decode(Int.self) where waiting >= limit {
                throw ClusterError.tooManyQueued(lane: command.lane, limit: limit)
            }
            let rows = try await connection.query(
                """
                INSERT INTO cluster_commands(lane, kind, message, action_id, officer, push_cache, requested_at,
                    queued_by, queued_for)
                VALUES (\(command.lane.value), \(command.kind), \(ByteBuffer(bytes: command.message)),
                    \(command.actionID), \(command.officer), \(command.pushCacheFirst), \(command.requestedAt),
                    \(command.queuedBy.value), \(command.queuedFor?.value))
                RETURNING id
                """, logger: logger)
            var stored = command
            for try await id in rows.decode(Int64.self) { stored.id = id }
            try await Self.notify(
                .commands, Self.json(CommandNotice(lane: command.lane, node: me)), on: connection,
                logger: logger)
            return stored
        }
    }

    /// Delivers the lane's queued commands, oldest first, through `deliver`
    /// (which puts the message in the lane's durable outbox and returns its
    /// message id), or marks those older than `maxAge` expired.
    ///
    /// The rows stay locked (`FOR UPDATE`) until the pass commits, so two
    /// nodes that both believe they hold the lane (a split brain not yet
    /// resolved) deliver each command once between them: the second waits,
    /// then finds the rows settled. If this node dies mid-pass, nothing is
    /// marked and the next holder delivers again: at least once, never lost.
    /// When `deliver` fails, the commands settled before it are committed
    /// and the error is thrown; the rest stay queued.
    public func deliverPending(
        _ lane: LaneID, now: Date, maxAge: TimeInterval, batch: Int = 100,
        deliver: @Sendable (QueuedCommand) async throws -> UInt64
    ) async throws -> Settled {
        var failure: (any Error)?
        let settled = try await pool.client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.commandColumns) FROM cluster_commands
                        WHERE lane = $1 AND state = 'queued' ORDER BY id LIMIT $2 FOR UPDATE
                        """, binds: try Self.binds(lane.value, batch)), logger: logger)
            var commands: [QueuedCommand] = []
            for try await row in rows { commands.append(try Self.command(row)) }
            var settled = Settled()
            for var command in commands {
                switch CommandReplay.decide(requestedAt: command.requestedAt, now: now, maxAge: maxAge) {
                case .expire:
                    try await connection.query(
                        """
                        UPDATE cluster_commands SET state = 'expired', settled_by = \(me.value), settled_at = \(now)
                        WHERE id = \(command.id)
                        """, logger: logger)
                    command.state = .expired
                    command.settledBy = me
                    command.settledAt = now
                    settled.expired.append(command)
                case .deliver:
                    let messageID: UInt64
                    do { messageID = try await deliver(command) } catch {
                        failure = error
                        return settled
                    }
                    try await connection.query(
                        """
                        UPDATE cluster_commands SET state = 'delivered', settled_by = \(me.value),
                            settled_at = \(now), message_id = \(Int64(bitPattern: messageID))
                        WHERE id = \(command.id)
                        """, logger: logger)
                    command.state = .delivered
                    command.settledBy = me
                    command.settledAt = now
                    command.messageID = messageID
                    settled.delivered.append(command)
                }
            }
            if !commands.isEmpty { try await Self.notify(.console, me.value, on: connection, logger: logger) }
            return settled
        }
        if let failure { throw failure }
        return settled
    }

    /// The newest commands of `lanes`, newest first, at most `limit`.
    public func recentCommands(lanes: [LaneID], limit: Int) async throws -> [QueuedCommand] {
        let rows = try await pool.client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Self.commandColumns) FROM cluster_commands
                    WHERE lane = ANY($1) ORDER BY id DESC LIMIT $2
                    """, binds: try Self.binds(lanes.map(\.value), limit)), logger: logger)
        var commands: [QueuedCommand] = []
        for try await row in rows { commands.append(try Self.command(row)) }
        return commands
    }

    /// One command by id.
    public func command(id: Int64) async throws -> QueuedCommand? {
        let rows = try await pool.client.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.commandColumns) FROM cluster_commands WHERE id = $1",
                binds: try Self.binds(id)), logger: logger)
        for try await row in rows { return try Self.command(row) }
        return nil
    }

    static func binds(_ values: any PostgresEncodable...) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { try bindings.append(value) }
        return bindings
    }

    static func command(_ row: PostgresRow) throws -> QueuedCommand {
        let cells = row.makeRandomAccess()
        let lane = try cells["lane"].decode(String.self)
        let queuedFor = try cells["queued_for"].decode(String?.self)
        let settledBy = try cells["settled_by"].decode(String?.self)
        let stateText = try cells["state"].decode(String.self)
        guard let state = QueuedCommand.State(rawValue: stateText) else {
            throw ClusterError.badRow("command state \"\(stateText)\"")
        }
        let message = try cells["message"].decode(ByteBuffer.self)
        return QueuedCommand(
            id: try cells["id"].decode(Int64.self), lane: try laneID(lane),
            kind: try cells["kind"].decode(String.self),
            message: Array(message.readableBytesView), actionID: try cells["action_id"].decode(Int64?.self),
            officer: try cells["officer"].decode(String.self),
            pushCacheFirst: try cells["push_cache"].decode(Bool.self),
            requestedAt: try cells["requested_at"].decode(Date.self),
            queuedBy: try NodeID(try cells["queued_by"].decode(String.self)),
            queuedFor: try queuedFor.map(NodeID.init),
            state: state, settledBy: try settledBy.map(NodeID.init),
            settledAt: try cells["settled_at"].decode(Date?.self),
            messageID: try cells["message_id"].decode(Int64?.self).map { UInt64(bitPattern: $0) })
    }

    // MARK: The simulated clock

    /// Sets the cluster's clock to `at` unless it stands later already;
    /// returns where it stands and tells the other nodes.
    public func setClock(_ at: Date) async throws -> Date {
        try await moveClock(
            """
            INSERT INTO cluster_clock(id, at) VALUES (1, \(at))
            ON CONFLICT (id) DO UPDATE SET at = GREATEST(cluster_clock.at, EXCLUDED.at)
            RETURNING at
            """)
    }

    /// Advances the cluster's clock by `seconds` (from `local` when it has
    /// no row yet); two nodes advancing at once both count.
    public func advanceClock(by seconds: Double, local: Date) async throws -> Date {
        try await moveClock(
            """
            INSERT INTO cluster_clock(id, at) VALUES (1, \(local.addingTimeInterval(seconds)))
            ON CONFLICT (id) DO UPDATE SET at = cluster_clock.at + make_interval(secs => \(seconds))
            RETURNING at
            """)
    }

    /// Where the cluster's clock stands, if any node set it.
    public func clock() async throws -> Date? {
        let rows = try await pool.client.query("SELECT at FROM cluster_clock WHERE id = 1", logger: logger)
        for try await at in rows.decode(Date.self) { return at }
        return nil
    }

    private func moveClock(_ query: PostgresQuery) async throws -> Date {
        try await pool.client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(query, logger: logger)
            var at = Date.distantPast
            for try await value in rows.decode(Date.self) { at = value }
            try await Self.notify(
                .clock, Self.json(ClockNotice(at: at, node: me)), on: connection, logger: logger)
            return at
        }
    }
}

extension QueuedCommand {
    /// The link message it carries.
    public func decodedMessage() throws -> LaneMessage {
        try LaneMessage(packet: LinkPacket(kind: .data, sequence: 0, payload: message))
    }

    /// Encodes `message` as a command row carries it.
    public static func encode(_ message: LaneMessage) throws -> [UInt8] {
        try message.packet(sequence: 0).payload
    }
}
