import Foundation
import LinkCore
import Logging
import PostgresNIO
import PostgresSupport
import RoadCargo

/// The cluster's tables and channels in the shared PostgreSQL database:
/// every statement the nodes run on them, and nothing else. Each method is
/// one statement or one transaction; notifications go out in the same
/// transaction as the change they announce, so a listener never hears of a
/// row it cannot read yet.
public struct ClusterTables: Sendable {
    /// The cluster's schema steps (`part: "cluster"`), beside the store's.
    public static let migrations = PostgresMigrations(
        part: "cluster",
        steps: [
            .init(
                "cluster/v1",
                [
                    """
                    CREATE TABLE cluster_nodes (
                        node text PRIMARY KEY,
                        started_at timestamptz NOT NULL DEFAULT now(),
                        heartbeat_at timestamptz NOT NULL DEFAULT now())
                    """,
                    """
                    CREATE TABLE cluster_lane_sessions (
                        lane text PRIMARY KEY,
                        node text,
                        epoch bigint NOT NULL,
                        linked_at timestamptz,
                        ended_at timestamptz)
                    """,
                    """
                    CREATE TABLE cluster_commands (
                        id bigserial PRIMARY KEY,
                        lane text NOT NULL,
                        kind text NOT NULL,
                        message bytea NOT NULL,
                        action_id bigint,
                        officer text NOT NULL,
                        push_cache boolean NOT NULL,
                        requested_at timestamptz NOT NULL,
                        queued_by text NOT NULL,
                        queued_for text,
                        state text NOT NULL DEFAULT 'queued'
                            CHECK (state IN ('queued', 'delivered', 'expired')),
                        settled_by text,
                        settled_at timestamptz,
                        message_id bigint)
                    """,
                    "CREATE INDEX cluster_commands_queued ON cluster_commands (lane, id) WHERE state = 'queued'",
                    "CREATE INDEX cluster_commands_lane ON cluster_commands (lane, id)",
                    """
                    CREATE TABLE cluster_clock (
                        id integer PRIMARY KEY CHECK (id = 1),
                        at timestamptz NOT NULL)
                    """,
                ])
        ])

    /// The LISTEN/NOTIFY channels.
    public enum Channel: String, Sendable, CaseIterable {
        /// A lane was claimed or let go: a ``LaneClaim`` as JSON.
        case lanes = "lanekiosk_lanes"
        /// A command was queued: ``CommandNotice`` as JSON.
        case commands = "lanekiosk_commands"
        /// Something officers see changed on the sending node: its node id.
        case console = "lanekiosk_console"
        /// The simulated clock moved: ``ClockNotice`` as JSON.
        case clock = "lanekiosk_clock"
    }

    public struct CommandNotice: Sendable, Hashable, Codable {
        public var lane: LaneID
        public var node: NodeID
    }

    public struct ClockNotice: Sendable, Hashable, Codable {
        public var at: Date
        public var node: NodeID
    }

    public let pool: PostgresPool
    public let me: NodeID
    var logger: Logger { pool.logger }

    public init(pool: PostgresPool, me: NodeID) {
        self.pool = pool
        self.me = me
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }

    static func parse<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(type, from: Data(text.utf8))
    }

    // MARK: Nodes

    /// Registers this node (again after a restart) and beats once.
    ///
    /// A row of this node's id with a live heartbeat is another process
    /// under the same id, or this node's previous life that crashed a moment
    /// ago: it waits until that heartbeat is `deadAfter` old, and refuses if
    /// it keeps beating, since two processes under one id would each take
    /// the other's lane claims for their own.
    /// - Throws: ``ClusterError/nodeIDInUse(_:)``.
    public func register(deadAfter: TimeInterval) async throws {
        let deadline = ContinuousClock.now + .seconds(deadAfter * 2 + 1)
        while try await aliveNodes(deadAfter: deadAfter).contains(me) {
            guard ContinuousClock.now < deadline else { throw ClusterError.nodeIDInUse(me) }
            // Time passing is the point: the old heartbeat must age.
            try await Task.sleep(for: .milliseconds(200))
        }
        try await pool.client.query(
            """
            INSERT INTO cluster_nodes(node) VALUES (\(me.value))
            ON CONFLICT (node) DO UPDATE SET started_at = now(), heartbeat_at = now()
            """, logger: logger)
    }

    public func heartbeat() async throws {
        try await pool.client.query(
            """
            INSERT INTO cluster_nodes(node) VALUES (\(me.value))
            ON CONFLICT (node) DO UPDATE SET heartbeat_at = now()
            """, logger: logger)
    }

    /// A graceful stop: this node is gone at once for the others, and its
    /// lanes are free (they are linking elsewhere by now).
    public func deregister(at now: Date) async throws {
        try await pool.client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE cluster_lane_sessions SET node = NULL, ended_at = \(now)
                WHERE node = \(me.value) RETURNING lane, epoch
                """, logger: logger)
            for try await (lane, epoch) in rows.decode((String, Int64).self) {
                let claim = LaneClaim(lane: try Self.laneID(lane), node: nil, epoch: epoch, linkedAt: nil)
                try await Self.notify(.lanes, Self.json(claim), on: connection, logger: logger)
            }
            try await connection.query("DELETE FROM cluster_nodes WHERE node = \(me.value)", logger: logger)
        }
    }

    /// The nodes alive by the database's clock.
    public func aliveNodes(deadAfter: TimeInterval) async throws -> Set<NodeID> {
        let rows = try await pool.client.query(
            "SELECT node, heartbeat_at, now() FROM cluster_nodes", logger: logger)
        var beats: [(node: NodeID, at: Date)] = []
        var now = Date.distantPast
        for try await (node, at, dbNow) in rows.decode((String, Date, Date).self) {
            beats.append((try NodeID(node), at))
            now = dbNow
        }
        return NodeLiveness.alive(heartbeats: beats, now: now, deadAfter: deadAfter)
    }

    // MARK: Lanes

    /// Claims the lane for this node under a new epoch and announces it.
    public func claim(_ lane: LaneID, at now: Date) async throws -> LaneClaim {
        try await pool.client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO cluster_lane_sessions(lane, node, epoch, linked_at) VALUES (\(lane.value), \(me.value), 1, \(now))
                ON CONFLICT (lane) DO UPDATE
                    SET node = EXCLUDED.node, epoch = cluster_lane_sessions.epoch + 1,
                        linked_at = EXCLUDED.linked_at, ended_at = NULL
                RETURNING epoch
                """, logger: logger)
            var epoch: Int64 = 0
            for try await value in rows.decode(Int64.self) { epoch = value }
            let claim = LaneClaim(lane: lane, node: me, epoch: epoch, linkedAt: now)
            try await Self.notify(.lanes, Self.json(claim), on: connection, logger: logger)
            return claim
        }
    }

    /// Lets the lane go if the claim under `epoch` is still this node's.
    @discardableResult
    public func release(_ lane: LaneID, epoch: Int64, at now: Date) async throws -> Bool {
        try await pool.client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE cluster_lane_sessions SET node = NULL, ended_at = \(now)
                WHERE lane = \(lane.value) AND node = \(me.value) AND epoch = \(epoch) RETURNING epoch
                """, logger: logger)
            var released = false
            for try await _ in rows { released = true }
            if released {
                let claim = LaneClaim(lane: lane, node: nil, epoch: epoch, linkedAt: nil)
                try await Self.notify(.lanes, Self.json(claim), on: connection, logger: logger)
            }
            return released
        }
    }

    /// The rows of `lanes` (all lanes when nil).
    public func claims(_ lanes: [LaneID]? = nil) async throws -> [LaneClaim] {
        let rows: PostgresRowSequence
        if let lanes {
            rows = try await pool.client.query(
                """
                SELECT lane, node, epoch, linked_at FROM cluster_lane_sessions
                WHERE lane = ANY(\(lanes.map(\.value)))
                """, logger: logger)
        } else {
            rows = try await pool.client.query(
                "SELECT lane, node, epoch, linked_at FROM cluster_lane_sessions", logger: logger)
        }
        var claims: [LaneClaim] = []
        for try await (lane, node, epoch, linkedAt) in rows.decode((String, String?, Int64, Date?).self) {
            claims.append(
                LaneClaim(
                    lane: try Self.laneID(lane), node: try node.map(NodeID.init), epoch: epoch,
                    linkedAt: linkedAt))
        }
        return claims
    }

    // MARK: Notifications

    /// Tells the other nodes' consoles that something they show changed.
    public func announceConsoleChange() async throws {
        try await Self.notify(.console, me.value, on: pool.client, logger: logger)
    }

    static func notify(
        _ channel: Channel, _ payload: String, on connection: PostgresConnection, logger: Logger
    )
        async throws
    {
        try await connection.query("SELECT pg_notify(\(channel.rawValue), \(payload))", logger: logger)
    }

    static func notify(_ channel: Channel, _ payload: String, on client: PostgresClient, logger: Logger)
        async throws
    {
        try await client.query("SELECT pg_notify(\(channel.rawValue), \(payload))", logger: logger)
    }

    static func laneID(_ raw: String) throws -> LaneID {
        do { return try LaneID(raw) } catch { throw ClusterError.badRow("lane id \"\(raw)\"") }
    }
}
