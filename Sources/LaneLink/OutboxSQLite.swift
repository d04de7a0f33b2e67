import Foundation
import GRDB

/// An ``Outbox`` in one table of an SQLite database, through GRDB.
///
/// The table can live in any database: its own file (``init(path:table:retention:)``)
/// or laned's journal (``init(writer:table:retention:firstID:now:)``), where
/// ``enqueue(in:topic:payload:)`` puts the outbox row in the same transaction
/// as the journal entry that caused it, so neither exists without the other.
///
/// Ids come from `INTEGER PRIMARY KEY AUTOINCREMENT`: SQLite never hands out
/// an id again, even after the rows above it are deleted. A new table starts
/// its ids at the current time in microseconds (see ``init(writer:table:retention:firstID:now:)``)
/// so that a lane whose file was lost and recreated still sends ids above the
/// ones central has already applied.
public final class SQLiteOutbox: Outbox {
    public let writer: any DatabaseWriter
    public let table: String
    public let retention: OutboxRetention
    private let now: @Sendable () -> Date

    /// Opens (creating if needed) an outbox in its own file, in WAL mode.
    public convenience init(
        path: String, table: String = "link_outbox", retention: OutboxRetention = .deleteAcknowledged
    ) throws {
        try self.init(
            writer: LinkDatabase.open(path: path, label: "Outbox"), table: table, retention: retention)
    }

    /// Uses `table` in `writer`'s database, creating it if needed.
    /// - Parameters:
    ///   - firstID: The id of the first message when the table is created; by
    ///     default the wall clock in microseconds since 1970 (about 1.7e15,
    ///     far below SQLite's 2^63 limit). Ignored for an existing table.
    ///   - now: The wall clock, for enqueue times and retention.
    ///
    /// Blocks on the database: call it off the cooperative pool, or use
    /// ``prepared(writer:table:retention:firstID:now:)``.
    public convenience init(
        writer: any DatabaseWriter, table: String = "link_outbox",
        retention: OutboxRetention = .deleteAcknowledged,
        firstID: UInt64? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        try self.init(unprepared: writer, table: table, retention: retention, now: now)
        let start = firstID ?? UInt64(max(LinkDatabase.millis(now()), 0)) * 1000
        try writer.write { [self] db in try createTable(db, start: start) }
    }

    /// The same through GRDB's async API, for callers on the cooperative pool.
    public static func prepared(
        writer: any DatabaseWriter, table: String = "link_outbox",
        retention: OutboxRetention = .deleteAcknowledged,
        firstID: UInt64? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> SQLiteOutbox {
        let outbox = try SQLiteOutbox(unprepared: writer, table: table, retention: retention, now: now)
        let start = firstID ?? UInt64(max(LinkDatabase.millis(now()), 0)) * 1000
        try await writer.write { db in try outbox.createTable(db, start: start) }
        return outbox
    }

    private init(
        unprepared writer: any DatabaseWriter, table: String, retention: OutboxRetention,
        now: @escaping @Sendable () -> Date
    ) throws {
        try LinkStoreError.check(table)
        self.writer = writer
        self.table = table
        self.retention = retention
        self.now = now
    }

    private func createTable(_ db: Database, start: UInt64) throws {
        precondition(start >= 1 && start <= UInt64(Int64.max), "first id must be between 1 and 2^63-1")
        do {
            guard try !db.tableExists(table) else { return }
            try db.execute(
                sql: """
                    CREATE TABLE "\(table)" (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        topic TEXT NOT NULL,
                        payload BLOB NOT NULL,
                        enqueued_at INTEGER NOT NULL,
                        acked_at INTEGER
                    );
                    CREATE INDEX "\(table)_pending" ON "\(table)"(id) WHERE acked_at IS NULL;
                    CREATE INDEX "\(table)_acked" ON "\(table)"(acked_at) WHERE acked_at IS NOT NULL;
                    """)
            // sqlite_sequence holds the last id handed out; the next is one more.
            try db.execute(
                sql: "INSERT INTO sqlite_sequence(name, seq) VALUES (?, ?)",
                arguments: [table, Int64(start) - 1])
        }
    }

    // MARK: Through GRDB's async API (never blocks a cooperative thread)

    /// ``enqueue(topic:payload:)`` without blocking.
    public func append(topic: String, payload: [UInt8]) async throws -> UInt64 {
        try await writer.write { [self] db in try enqueue(in: db, topic: topic, payload: payload) }
    }

    /// Several messages in one transaction, in order: all are stored or none.
    /// Returns their ids, increasing.
    public func append(_ messages: [(topic: String, payload: [UInt8])]) async throws -> [UInt64] {
        try await writer.write { [self] db in
            try messages.map { try enqueue(in: db, topic: $0.topic, payload: $0.payload) }
        }
    }

    /// ``pending(limit:)`` without blocking.
    public func readPending(limit: Int? = nil) async throws -> [OutboxMessage] {
        try await writer.read { [self] db in try pending(db, limit: limit) }
    }

    /// ``markAcknowledged(_:)`` without blocking.
    public func acknowledge(_ ids: [UInt64]) async throws {
        guard !ids.isEmpty else { return }
        let at = now()
        try await writer.write { [self] db in try markAcknowledged(db, ids, at: at) }
    }

    /// ``pendingCount()`` without blocking.
    public func countPending() async throws -> Int {
        try await writer.read { [self] db in try pendingCount(db) }
    }

    /// Messages of one topic not yet acknowledged by the peer, without
    /// blocking: e.g. the lane's offline crossings central has not yet
    /// reconciled (`"offline crossing"`). Reads only the pending rows,
    /// through the pending index.
    public func countPending(topic: String) async throws -> Int {
        try await writer.read { [self] db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM \"\(table)\" WHERE acked_at IS NULL AND topic = ?",
                arguments: [topic]) ?? 0
        }
    }

    public func enqueue(topic: String, payload: [UInt8]) throws -> UInt64 {
        try writer.write { db in try enqueue(in: db, topic: topic, payload: payload) }
    }

    /// Enqueues inside the caller's transaction; the id is only real once that
    /// transaction commits.
    public func enqueue(in db: Database, topic: String, payload: [UInt8]) throws -> UInt64 {
        try db.execute(
            sql: "INSERT INTO \"\(table)\" (topic, payload, enqueued_at) VALUES (?, ?, ?)",
            arguments: [topic, Data(payload), LinkDatabase.millis(now())])
        return UInt64(db.lastInsertedRowID)
    }

    public func pending(limit: Int?) throws -> [OutboxMessage] {
        try writer.read { db in try pending(db, limit: limit) }
    }

    private func pending(_ db: Database, limit: Int?) throws -> [OutboxMessage] {
        do {
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, topic, payload, enqueued_at FROM "\(table)"
                    WHERE acked_at IS NULL ORDER BY id LIMIT ?
                    """,
                arguments: [limit ?? -1])
            return rows.map { row in
                OutboxMessage(
                    id: UInt64(row["id"] as Int64), topic: row["topic"],
                    payload: [UInt8](row["payload"] as Data),
                    enqueuedAt: LinkDatabase.date(millis: row["enqueued_at"]))
            }
        }
    }

    public func markAcknowledged(_ ids: [UInt64]) throws {
        guard !ids.isEmpty else { return }
        let at = now()
        try writer.write { db in try markAcknowledged(db, ids, at: at) }
    }

    private func markAcknowledged(_ db: Database, _ ids: [UInt64], at: Date) throws {
        do {
            let update = try db.makeStatement(
                sql: "UPDATE \"\(table)\" SET acked_at = ? WHERE id = ? AND acked_at IS NULL")
            for id in ids where id <= UInt64(Int64.max) {
                try update.execute(arguments: [LinkDatabase.millis(at), Int64(id)])
            }
            try prune(db, now: at)
        }
    }

    public func pendingCount() throws -> Int {
        try writer.read { db in try pendingCount(db) }
    }

    private func pendingCount(_ db: Database) throws -> Int {
        do {
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(table)\" WHERE acked_at IS NULL") ?? 0
        }
    }

    /// Acknowledged rows still kept under the retention setting.
    public func acknowledgedCount() throws -> Int {
        try writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(table)\" WHERE acked_at IS NOT NULL") ?? 0
        }
    }

    private func prune(_ db: Database, now: Date) throws {
        let cutoff: Int64
        switch retention {
        case .deleteAcknowledged:
            cutoff = .max
        case .keepAcknowledged(let period):
            let (seconds, attoseconds) = period.components
            cutoff = LinkDatabase.millis(now) - (seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        }
        try db.execute(
            sql: "DELETE FROM \"\(table)\" WHERE acked_at IS NOT NULL AND acked_at <= ?", arguments: [cutoff])
    }
}
