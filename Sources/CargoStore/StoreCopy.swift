import Foundation
import GRDB
import Logging
import PostgresNIO

/// `clearanced store copy`: a whole SQLite central into an empty PostgreSQL
/// store, in one PostgreSQL transaction (all or nothing), keeping every id
/// and number, and moving the PostgreSQL sequences past the copied ids so
/// that new rows continue after them (docs/deploying-central.md, "Moving a
/// SQLite central to PostgreSQL").
///
/// The source is read page by page outside one snapshot: copy a central
/// that is stopped, as the guide says.
public enum StoreCopy {
    /// How many rows one table held, and so were copied.
    public struct TableCount: Sendable, Hashable {
        public var table: String
        public var rows: Int
    }

    /// The target already holds data.
    public struct TargetNotEmpty: Error, CustomStringConvertible {
        public var found: [TableCount]
        public var description: String {
            "the target store is not empty ("
                + found.map { "\($0.rows) rows in \($0.table)" }.joined(separator: ", ")
                + "); copy into a new, empty database"
        }
    }

    /// Primary keys, for reading the source in a stable order.
    static let order: [String: String] = [
        "issued_numbers": "number", "accounts": "name", "bundles": "ubr", "consignments": "ccrn",
        "goods_items": "ccrn, position", "bundle_ccrns": "ubr, position", "lanes": "id",
        "cache_pushes": "generation", "officer_passwords": "name", "console_sessions": "token_hash",
        "cache_changes": "seq",
    ]

    /// Copies every table of `source` into `target`; returns the counts in copy order.
    /// - Throws: ``TargetNotEmpty`` naming what the target holds; nothing is written then.
    public static func copy(from source: SQLiteCargoStore, to target: PostgresCargoStore) async throws
        -> [TableCount]
    {
        let logger = target.logger
        let types = try await columnTypes(target)
        return try await target.transaction { db in
            var found: [TableCount] = []
            for table in PostgresSchema.tables {
                let n = try await db.rows(
                    PostgresQuery(unsafeSQL: "SELECT count(*) AS n FROM \(table)"), logger)[0]
                    .int("n")
                if n > 0 { found.append(TableCount(table: table, rows: Int(n))) }
            }
            guard found.isEmpty else { throw TargetNotEmpty(found: found) }
            var counts: [TableCount] = []
            // The feed is the source's, position and all; the triggers would
            // note every copied bundle and watch entry in it again. Only this
            // transaction sees them off: ALTER TABLE is transactional.
            for table in feedTriggered {
                try await db.rows(
                    PostgresQuery(unsafeSQL: "ALTER TABLE \(table) DISABLE TRIGGER USER"), logger)
            }
            for table in PostgresSchema.tables {
                let rows = try await copyTable(table, types: types[table] ?? [:], source, db, logger)
                counts.append(TableCount(table: table, rows: rows))
            }
            for table in feedTriggered {
                try await db.rows(
                    PostgresQuery(unsafeSQL: "ALTER TABLE \(table) ENABLE TRIGGER USER"), logger)
            }
            try await moveSequences(source, db, logger)
            return counts
        }
    }

    /// Every column's PostgreSQL type, by table.
    private static func columnTypes(_ target: PostgresCargoStore) async throws -> [String: [String: String]] {
        var types: [String: [String: String]] = [:]
        for row in try await target.rows(
            """
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema()
            """)
        {
            types[try row.text("table_name"), default: [:]][try row.text("column_name")] = try row.text(
                "data_type")
        }
        return types
    }

    /// Rows read from the source at a time, and streamed as one piece of COPY data.
    static let page = 2000

    /// Tables whose own triggers note changes in the cache feed; they are
    /// off while the copy runs, because the feed is copied as it is.
    static let feedTriggered = ["bundles", "consignments", "watch_list"]

    /// Streams one table through `COPY … FROM STDIN` (text format): a million
    /// bundles cost one statement and a stream of bytes, not thousands of
    /// INSERTs with a trigger each.
    private static func copyTable(
        _ table: String, types: [String: String], _ source: SQLiteCargoStore, _ db: PostgresConnection,
        _ logger: Logger
    ) async throws -> Int {
        let keys = (Self.order[table] ?? "id").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var (columns, rows) = try await readPage(table, keys: keys, after: nil, source)
        guard !rows.isEmpty else { return 0 }
        let keyIndexes = try keys.map { key in
            guard let index = columns.firstIndex(of: key) else {
                throw StoreError.incompatible("the source's \(table) has no column \(key)")
            }
            return index
        }
        let columnTypes = columns.map { types[$0] ?? "text" }
        var copied = 0
        try await db.copyFrom(table: table, columns: columns, logger: logger) { writer in
            while let final = rows.last {
                var text = ""
                for row in rows {
                    for (i, value) in row.enumerated() {
                        if i > 0 { text += "\t" }
                        text += try copyText(value, as: columnTypes[i])
                    }
                    text += "\n"
                }
                try await writer.write(ByteBuffer(string: text))
                copied += rows.count
                // Keyset paging: each page starts after the previous page's
                // last key, through the primary key's index, so a million rows
                // cost a million steps (OFFSET would walk every skipped row again).
                (columns, rows) = try await readPage(
                    table, keys: keys, after: keyIndexes.map { final[$0] }, source)
            }
        }
        return copied
    }

    /// One page of `table` in key order, after `last` (a key's values) if given.
    private static func readPage(
        _ table: String, keys: [String], after last: [DatabaseValue]?, _ source: SQLiteCargoStore
    ) async throws -> (columns: [String], rows: [[DatabaseValue]]) {
        let keyList = keys.joined(separator: ", ")
        // Plain values out of the read: GRDB's rows stay on its queue.
        return try await source.writer.read { sqlite in
            let rows: [Row]
            if let last {
                let marks = Array(repeating: "?", count: last.count).joined(separator: ", ")
                rows = try Row.fetchAll(
                    sqlite,
                    sql: "SELECT * FROM \(table) WHERE (\(keyList)) > (\(marks)) ORDER BY \(keyList) LIMIT ?",
                    arguments: StatementArguments(last + [page.databaseValue]))
            } else {
                rows = try Row.fetchAll(
                    sqlite, sql: "SELECT * FROM \(table) ORDER BY \(keyList) LIMIT ?", arguments: [page])
            }
            return (rows.first.map { Array($0.columnNames) } ?? [], rows.map { Array($0.databaseValues) })
        }
    }

    /// One SQLite value as COPY's text format writes the PostgreSQL column's type.
    static func copyText(_ value: DatabaseValue, as type: String) throws -> String {
        switch value.storage {
        case .null:
            return "\\N"
        case .int64(let n):
            return type == "boolean" ? (n != 0 ? "t" : "f") : String(n)
        case .double(let d):
            return String(d)
        case .string(let s):
            // COPY's text format: backslash escapes, tab between columns, newline between rows.
            var escaped = ""
            escaped.reserveCapacity(s.utf8.count)
            for character in s.unicodeScalars {
                switch character {
                case "\\": escaped += "\\\\"
                case "\t": escaped += "\\t"
                case "\n": escaped += "\\n"
                case "\r": escaped += "\\r"
                default: escaped.unicodeScalars.append(character)
                }
            }
            return escaped
        case .blob:
            throw StoreError.incompatible("a blob in the source store, where LaneKiosk writes none")
        }
    }

    /// Identities continue after the copied ids (and after ids SQLite
    /// issued and then lost to deletion, which AUTOINCREMENT never reuses);
    /// the cache feed continues after the source's position.
    private static func moveSequences(_ source: SQLiteCargoStore, _ db: PostgresConnection, _ logger: Logger)
        async throws
    {
        let issued = try await source.writer.read { sqlite in
            try Row.fetchAll(sqlite, sql: "SELECT name, seq FROM sqlite_sequence").reduce(
                into: [String: Int64]()
            ) {
                $0[$1["name"]] = $1["seq"]
            }
        }
        for table in PostgresSchema.identityTables {
            let floor = issued[table] ?? 0
            try await db.rows(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence('\(table)', 'id'),
                            greatest(coalesce((SELECT max(id) FROM \(table)), 0), $1) + 1, false)
                        """, binds: bindings(floor)), logger)
        }
        try await db.rows(
            """
            UPDATE cache_feed SET seq = greatest(coalesce((SELECT max(seq) FROM cache_changes), 0), \(issued["cache_changes"] ?? 0))
            """, logger)
    }

    private static func bindings(_ value: Int64) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(value)
        return binds
    }
}
