import Foundation
import GRDB
import RoadCargo

/// The journal file's tables, created and migrated by a `DatabaseMigrator`.
///
/// The link's outbox table is created by `SQLiteOutbox` itself (not by this
/// migrator) in the same file. The two never clash: the migrator only
/// records its own migrations in `grdb_migrations` and never erases the
/// database, and the outbox creates its table only if it is missing.
enum JournalSchema {
    static func prepare(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            // Incremental vacuum lets retention give pages back to the file
            // system. Once a file is in WAL mode (GRDB's pool puts it there on
            // open) the mode only changes through VACUUM, new file or not.
            let mode = try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") ?? 0
            if mode != 2 {
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
            }
        }
        try migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: journal, checkpoint, bundle cache") { db in
            try db.execute(
                sql: """
                    CREATE TABLE journal (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        vrn TEXT,
                        request_id INTEGER,
                        decision_id INTEGER,
                        instruction TEXT,
                        reason TEXT,
                        officer TEXT,
                        call_id INTEGER,
                        decision TEXT,
                        detail TEXT NOT NULL DEFAULT '',
                        outbox_mark INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX journal_at ON journal(at);
                    CREATE INDEX journal_outbox_mark ON journal(outbox_mark);
                    CREATE INDEX journal_vrn ON journal(vrn, at) WHERE vrn IS NOT NULL;

                    CREATE TABLE journal_checkpoint (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        through_seq INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        rows_pruned INTEGER NOT NULL,
                        pruned_at INTEGER NOT NULL
                    );

                    CREATE VIEW journal_hk AS
                    SELECT seq,
                           strftime('%Y-%m-%dT%H:%M:%f+08:00', at / 1000000.0, 'unixepoch', '+8 hours') AS hk_time,
                           kind, vrn, request_id, decision_id, instruction, reason, officer, call_id, detail
                    FROM journal;

                    CREATE TABLE cache_generation (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        generation INTEGER NOT NULL,
                        installed_at INTEGER NOT NULL,
                        bundles INTEGER NOT NULL,
                        watch_targets INTEGER NOT NULL
                    );
                    CREATE TABLE cache_bundle (
                        ubr TEXT PRIMARY KEY,
                        vrn TEXT NOT NULL,
                        direction TEXT NOT NULL,
                        earliest_crossing INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        used_here_at INTEGER
                    );
                    CREATE INDEX cache_bundle_vrn ON cache_bundle(vrn, direction, status);
                    CREATE TABLE cache_ccrn (
                        ubr TEXT NOT NULL REFERENCES cache_bundle(ubr) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        ccrn TEXT NOT NULL,
                        valid_until TEXT NOT NULL,
                        PRIMARY KEY (ubr, position)
                    );
                    CREATE TABLE cache_watch (
                        kind TEXT NOT NULL,
                        value TEXT NOT NULL,
                        PRIMARY KEY (kind, value)
                    );
                    CREATE TABLE cache_staged_chunk (
                        generation INTEGER NOT NULL,
                        chunk_index INTEGER NOT NULL,
                        chunk_count INTEGER NOT NULL,
                        content TEXT NOT NULL,
                        PRIMARY KEY (generation, chunk_index)
                    );
                    """)
        }
        // Deltas numbered per generation (docs/lane-journal.md, "Bundle
        // cache"): the cache is generation.sequence, and a gap is asked for
        // once per version the lane holds, not once per delta that shows it.
        m.registerMigration("v2: cache delta sequence, resync requests") { db in
            try db.execute(
                sql: """
                    ALTER TABLE cache_generation ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE cache_resync (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        have_generation INTEGER,
                        have_sequence INTEGER,
                        asked_at INTEGER NOT NULL
                    );
                    """)
        }
        return m
    }

    /// The id of the last message the outbox has handed out (0 before it
    /// exists): stored with each entry, it tells retention which entries
    /// were written before or with an unacknowledged message.
    static func outboxMark(_ db: Database, table: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table]) ?? 0
    }

    /// UInt64 ids in SQLite's signed 64-bit integers: the same bits, so that
    /// ids central chooses above 2^63 survive (they read back negative in the
    /// `sqlite3` shell).
    static func stored(_ id: UInt64) -> Int64 { Int64(bitPattern: id) }
    static func loaded(_ value: Int64) -> UInt64 { UInt64(bitPattern: value) }

    /// JSON with `Date` as its own Double, so that a decision reads back equal.
    static func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(0x30...0x39).contains(first), name.utf8.count <= 64 else {
            return false
        }
        return name.utf8.allSatisfy { b in
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x5F
        }
    }
}

/// Journal times: UTC microseconds since 1970 in an INTEGER column, exact and
/// sortable whatever the host's zone; shown in Hong Kong time.
public enum JournalTime {
    /// `date` in whole microseconds since 1970 (rounded to the nearest).
    public static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    public static func date(micros: Int64) -> Date {
        Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    /// `2026-11-26T09:30:00.120+08:00`: Hong Kong time to the millisecond.
    public static func hongKong(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let whole = Date(timeIntervalSince1970: Double(floorDiv(ms, 1000)))
        let fraction = ms - floorDiv(ms, 1000) * 1000
        let text = HongKongTime.iso8601(whole)
        let pad = fraction < 10 ? "00" : fraction < 100 ? "0" : ""
        return text.dropLast(6) + ".\(pad)\(fraction)" + text.suffix(6)
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
}
