import Foundation
import GRDB
import RoadCargo

/// The receiver's durable memory of which messages it has applied, so that a
/// message sent again (its ack was lost, the sender restarted) changes nothing
/// the second time: at-least-once delivery plus this is exactly once in effect.
///
/// The effect takes a GRDB `Database` because the record and the effect must
/// commit together: apply without record and a resend applies twice; record
/// without apply and the message is lost. So the log lives in the same
/// database as what the effects change (central's store; laned's journal).
public protocol AppliedLog: Sendable {
    /// Runs `effect` and records `messageID` for `lane` in one transaction,
    /// unless the id is recorded already. Returns whether the effect ran.
    /// When `effect` throws, nothing is recorded and the error propagates; the
    /// message stays unacknowledged and will be offered again.
    func applyOnce(lane: LaneID, messageID: UInt64, effect: (Database) throws -> Void) throws -> Bool
    /// Whether `messageID` from `lane` was applied.
    func isApplied(lane: LaneID, messageID: UInt64) throws -> Bool
    /// Forgets `lane`'s ids below `messageID`: safe once the lane has said it
    /// will never send them again (every id below its oldest unacknowledged
    /// one). Returns how many were forgotten.
    func forget(lane: LaneID, below messageID: UInt64) throws -> Int
    /// ``isApplied(lane:messageID:)`` without blocking a cooperative thread.
    func wasApplied(lane: LaneID, messageID: UInt64) async throws -> Bool
    /// Records `messageID` as applied (no effect of its own), without blocking.
    func record(lane: LaneID, messageID: UInt64) async throws
}

/// An ``AppliedLog`` in one table of an SQLite database, through GRDB.
///
/// Central passes its store's writer, so that recording a crossing and
/// recording the message that asked for it are one transaction. On the lane
/// the same type records central's messages (with the lane's own id as
/// `lane`) in the journal database.
public final class SQLiteAppliedLog: AppliedLog {
    public let writer: any DatabaseWriter
    public let table: String
    private let now: @Sendable () -> Date

    /// Opens (creating if needed) an applied log in its own file, in WAL mode.
    public convenience init(path: String, table: String = "link_applied") throws {
        try self.init(writer: LinkDatabase.open(path: path, label: "AppliedLog"), table: table)
    }

    /// Uses `table` in `writer`'s database, creating it if needed.
    /// Blocks on the database: call it off the cooperative pool, or use
    /// ``init(unpreparedWriter:table:now:)`` and ``prepare()``.
    public convenience init(
        writer: any DatabaseWriter, table: String = "link_applied",
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        try self.init(unpreparedWriter: writer, table: table, now: now)
        try writer.write { db in try self.createTable(db) }
    }

    /// Uses `table` without touching the database; ``prepare()`` creates it.
    public init(
        unpreparedWriter writer: any DatabaseWriter, table: String = "link_applied",
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        try LinkStoreError.check(table)
        self.writer = writer
        self.table = table
        self.now = now
    }

    /// Creates the table if needed, through GRDB's async API.
    public func prepare() async throws {
        try await writer.write { [self] db in try createTable(db) }
    }

    private func createTable(_ db: Database) throws {
        // WITHOUT ROWID: the primary key is the whole point, no second b-tree.
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS "\(table)" (
                    lane TEXT NOT NULL,
                    message_id INTEGER NOT NULL,
                    applied_at INTEGER NOT NULL,
                    PRIMARY KEY (lane, message_id)
                ) WITHOUT ROWID
                """)
    }

    /// ``applyOnce(lane:messageID:effect:)`` through GRDB's async API, for
    /// callers on the cooperative pool. Returns the effect's result, or nil
    /// when the id was applied before.
    public func applyingOnce<T: Sendable>(
        lane: LaneID, messageID: UInt64, effect: @escaping @Sendable (Database) throws -> T
    ) async throws -> T? {
        try await writer.writeWithoutTransaction { [self] db in
            var result: T?
            try db.inTransaction(.immediate) {
                _ = try applyOnce(in: db, lane: lane, messageID: messageID) { db in result = try effect(db) }
                return .commit
            }
            return result
        }
    }

    public func record(lane: LaneID, messageID: UInt64) async throws {
        _ = try await applyingOnce(lane: lane, messageID: messageID) { _ in () }
    }

    /// ``isApplied(lane:messageID:)`` through GRDB's async API.
    public func wasApplied(lane: LaneID, messageID: UInt64) async throws -> Bool {
        try await writer.read { [self] db in try isApplied(db, lane: lane, messageID: messageID) }
    }

    public func applyOnce(lane: LaneID, messageID: UInt64, effect: (Database) throws -> Void) throws -> Bool {
        // IMMEDIATE: take the write lock before reading, so another process
        // cannot record the same id between our check and our insert.
        try writer.writeWithoutTransaction { db in
            var applied = false
            try db.inTransaction(.immediate) {
                applied = try applyOnce(in: db, lane: lane, messageID: messageID, effect: effect)
                return .commit
            }
            return applied
        }
    }

    /// The same inside the caller's transaction, for callers that do more in
    /// it than the effect. The caller's transaction must be IMMEDIATE (or
    /// already hold the write lock) for the check to stay true until commit.
    public func applyOnce(
        in db: Database, lane: LaneID, messageID: UInt64, effect: (Database) throws -> Void
    ) throws -> Bool {
        guard try !isApplied(db, lane: lane, messageID: messageID) else { return false }
        try effect(db)
        try db.execute(
            sql: "INSERT INTO \"\(table)\" (lane, message_id, applied_at) VALUES (?, ?, ?)",
            arguments: [lane.value, Self.stored(messageID), LinkDatabase.millis(now())])
        return true
    }

    public func isApplied(lane: LaneID, messageID: UInt64) throws -> Bool {
        try writer.read { db in try isApplied(db, lane: lane, messageID: messageID) }
    }

    public func forget(lane: LaneID, below messageID: UInt64) throws -> Int {
        try writer.write { db in
            try db.execute(
                sql: "DELETE FROM \"\(table)\" WHERE lane = ? AND message_id < ?",
                arguments: [lane.value, Self.stored(messageID)])
            return db.changesCount
        }
    }

    private func isApplied(_ db: Database, lane: LaneID, messageID: UInt64) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT 1 FROM \"\(table)\" WHERE lane = ? AND message_id = ?",
            arguments: [lane.value, Self.stored(messageID)]) ?? false
    }

    /// SQLite integers are signed 64-bit. Ids from an outbox are row ids, so
    /// below 2^63; a peer's larger id still gets a distinct value (its bit
    /// pattern), it only sorts below the others in ``forget(lane:below:)``.
    private static func stored(_ id: UInt64) -> Int64 { Int64(bitPattern: id) }
}
