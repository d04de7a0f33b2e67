import Foundation
import GRDB
import LaneCore
import RoadCargo
import ServiceSupport

/// A lane's journal: one SQLite file in WAL mode that holds everything the
/// lane saw and did (``append(_:at:in:)``), the link's outbox (created by the
/// link in the same file, through ``writer``), the bundle cache central
/// pushes for offline decisions, and what ``recover()`` needs after a crash.
///
/// Every write is a transaction with `synchronous = FULL`: once ``append(_:at:in:)``'s
/// transaction has committed, the entry survives kill -9 and power loss.
/// `docs/lane-journal.md` describes the schema, recovery and retention.
public final class LaneJournal: Sendable {
    /// The file's writer. The link's outbox shares it, so that an entry and
    /// the message it causes commit together:
    ///
    /// ```swift
    /// try await journal.writer.write { db in
    ///     try journal.append(entries, at: now, in: db)
    ///     _ = try outbox.enqueue(in: db, topic: "lane-event", payload: bytes)
    /// }
    /// ```
    public let writer: DatabasePool
    /// The file's path.
    public let path: String
    /// The lane's wall clock: the time of entries appended without one, and
    /// "now" for retention.
    public let clock: any WallClock
    /// The link outbox's table in this file; retention keeps the entries its
    /// unacknowledged messages came with.
    public let outboxTable: String

    /// Opens the journal at `path`, creating the file and its tables if
    /// needed, and migrating an older schema.
    /// - Parameters:
    ///   - clock: The lane's wall clock.
    ///   - outboxTable: The table of the link's `SQLiteOutbox` in this file
    ///     (its default is `link_outbox`); it need not exist yet.
    /// - Throws: ``JournalError/invalidTableName(_:)``, or GRDB's
    ///   `DatabaseError` when the file cannot be opened or is not a journal.
    ///
    /// Opening reads and may migrate the file synchronously: from async code
    /// use ``open(path:clock:outboxTable:)``, which does it off the
    /// cooperative pool (a debug build stops here when called from a task).
    public init(path: String, clock: any WallClock, outboxTable: String = "link_outbox") throws {
        Blocking.assertNotOnCooperativePool("LaneJournal.init(path:) (opening \(path))")
        guard JournalSchema.isPlainIdentifier(outboxTable) else {
            throw JournalError.invalidTableName(outboxTable)
        }
        var config = Configuration()
        config.label = "LaneJournal"
        config.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: config)
        try Self.syncEveryCommit(pool)
        try JournalSchema.prepare(pool)
        self.writer = pool
        self.path = path
        self.clock = clock
        self.outboxTable = outboxTable
    }

    /// ``init(path:clock:outboxTable:)`` on the blocking queue, for async
    /// code (laned's start-up, the simulator, tests).
    public static func open(
        path: String, clock: any WallClock, outboxTable: String = "link_outbox"
    ) async throws -> LaneJournal {
        try await Blocking.run { try LaneJournal(path: path, clock: clock, outboxTable: outboxTable) }
    }

    /// Closes the file once every writer is done with it (laned's graceful
    /// shutdown closes it last): waits for the writer's queue, then closes
    /// its connections. Later reads and writes throw. Off the cooperative
    /// pool, since closing waits for the writer and may checkpoint the WAL.
    public func close() async throws {
        let pool = writer
        try await Blocking.run { try pool.close() }
    }

    /// WAL with `synchronous = NORMAL` syncs only at checkpoints, so a power
    /// cut may lose the last commits; a lane must not lose a decision it
    /// showed. GRDB's pool sets NORMAL on its writer *after* the
    /// `prepareDatabase` hook runs (`Database.setUpWALMode`), so FULL has to
    /// be set here, once the pool is open, on its one writer connection
    /// (which lives as long as the pool). Readers never commit.
    static func syncEveryCommit(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    }

    /// The writer connection's `PRAGMA synchronous`: 2 is FULL (what
    /// `docs/lane-journal.md` promises), 1 NORMAL.
    public func synchronousLevel() async throws -> Int {
        try await writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        }
    }

    // MARK: - Appending

    /// Appends entries, in order, at time `at`, inside the caller's write
    /// transaction (so that the outbox messages they cause commit with them).
    /// - Returns: The entries' sequence numbers.
    @discardableResult
    public func append(_ entries: [JournalEntry], at: Date, in db: Database) throws -> [Int64] {
        guard !entries.isEmpty else { return [] }
        let mark = try JournalSchema.outboxMark(db, table: outboxTable)
        let micros = JournalTime.micros(at)
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO journal (at, kind, vrn, request_id, decision_id, instruction, reason, officer,
                                     call_id, decision, detail, outbox_mark)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        var seqs: [Int64] = []
        seqs.reserveCapacity(entries.count)
        for entry in entries {
            try insert.execute(arguments: [
                micros, entry.kind.rawValue, entry.vrn?.value, entry.requestID.map(JournalSchema.stored),
                entry.decisionID.map(JournalSchema.stored), entry.instruction?.rawValue,
                entry.reason?.rawValue,
                entry.officer, entry.callID.map(JournalSchema.stored),
                try entry.decision.map(JournalSchema.encode), entry.detail, mark,
            ])
            seqs.append(db.lastInsertedRowID)
        }
        return seqs
    }

    /// Appends entries in a transaction of their own, at `at` or the clock's now.
    @discardableResult
    public func append(_ entries: [JournalEntry], at: Date? = nil) async throws -> [Int64] {
        let time = at ?? clock.now()
        return try await writer.write { db in try append(entries, at: time, in: db) }
    }

    // MARK: - Reading

    /// The control socket's `journal` command: without `after`, the last
    /// `limit` entries; with it, the first `limit` entries after sequence
    /// number `after` (to follow the journal). Oldest first either way.
    public func tail(limit: Int, after: Int64? = nil) async throws -> [JournalRecord] {
        let limit = max(limit, 0)
        return try await writer.read { db in
            if let after {
                return try JournalRecord.fetch(
                    db, where: "seq > ? ORDER BY seq LIMIT ?", arguments: [after, limit])
            }
            let newestFirst = try JournalRecord.fetch(
                db, where: "1 ORDER BY seq DESC LIMIT ?", arguments: [limit])
            return newestFirst.reversed()
        }
    }

    /// Entries with `from <= at < to`, in the order they were written.
    public func entries(from: Date, to: Date) async throws -> [JournalRecord] {
        try await writer.read { db in
            try JournalRecord.fetch(
                db, where: "at >= ? AND at < ? ORDER BY at, seq",
                arguments: [JournalTime.micros(from), JournalTime.micros(to)])
        }
    }

    /// The highest sequence number written, or nil for an empty journal.
    public func lastSequence() async throws -> Int64? {
        try await writer.read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM journal") }
    }

    /// How many entries the journal holds now.
    public func count() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0 }
    }

    // MARK: - Recovery

    /// What the journal says about the lane at the moment it stopped: the
    /// retention checkpoint, then every entry after it, folded by the rules
    /// of ``JournalRecovery`` (and `docs/lane-journal.md`).
    public func recover() async throws -> RecoveredLane {
        try await writer.read { db in try JournalRecovery.load(db).recovered }
    }
}

/// Why the journal refused a call.
public enum JournalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A table name that is not a plain SQL identifier.
    case invalidTableName(String)
    /// A stored value does not parse (the file was edited by hand, or is damaged).
    case corruptRow(table: String, key: String, column: String, value: String)
    /// A bundle-cache chunk that does not fit the chunks already staged.
    case cacheChunk(generation: UInt64, index: Int, count: Int, why: String)
    /// Retention settings out of range.
    case invalidRetention(String)

    public var description: String {
        switch self {
        case .invalidTableName(let name):
            "\"\(name)\" cannot be a table name: use letters, digits and '_', not starting with a digit"
        case .corruptRow(let table, let key, let column, let value):
            "\(table) row \(key): column \(column) holds \"\(value)\", which does not parse"
        case .cacheChunk(let generation, let index, let count, let why):
            "bundle cache chunk \(index) of \(count) (generation \(generation)) refused: \(why)"
        case .invalidRetention(let why):
            "journal retention: \(why)"
        }
    }
}
